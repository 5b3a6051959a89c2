// A dyad's state as the log knew it at a position, and as of an occurred
// date, from the relationship projector's entries (storage/format.h):
// GetRelationship's as_of axes (services/relationships/queries.h).
#ifndef ANNALS_SERVICES_RELATIONSHIPS_AS_OF_H_
#define ANNALS_SERVICES_RELATIONSHIPS_AS_OF_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/relationship.pb.h"
#include "services/model/occurred_interval.h"
#include "storage/event_log.h"

namespace annals::services {

// The state of `dyad` as the log knew it at `position`: its latest
// checkpoint at or before `position`, and every event and correction after
// it up to `position` that touched the dyad, and the originals they
// correct, folded as EffectiveEvents does.
absl::StatusOr<v1::RelationshipState> StateAtPosition(
    const storage::EventLog& log, const std::string& dyad, uint64_t position);

// A dyad's state as of the end of a day.
struct StateByDay {
  v1::RelationshipState state;
  // Events that start by the day but end after it.
  int64_t uncertain = 0;
};

// The state of `dyad` from its effective events whose interval ends by
// `last_day`: the through partial (storage/format.h) of the earlier years
// when it is kept and current, else the merge of the year partial of each
// earlier year with events, kept or folded from the timeline and then kept
// (EventLog::KeepCache), and the merge then kept as the through partial;
// and the month partials of the day's year before its month when each is
// kept and current, merged (services/model/state_merge.h) with the fold of
// the rest up to the day. Reads one partial of the earlier years and at
// most a month of the dyad's events (a year where no month partials are
// kept), and its longest span before them, when the partials are current,
// however many events the dyad has.
absl::StatusOr<StateByDay> StateAtDate(const storage::EventLog& log,
                                       const std::string& dyad,
                                       DayKey last_day);

// Years with at least this many events of a dyad get month partials.
inline constexpr int64_t kMonthPartialEvents = 256;

// Folds and keeps every year partial of `dyad` that is not current, and
// the month partials of the years with at least `month_partial_events`
// events, and merges and keeps every through partial that is not current,
// as StateAtDate reads them. Returns how many years it folded.
absl::StatusOr<int> KeepPartials(
    const storage::EventLog& log, const std::string& dyad,
    int64_t month_partial_events = kMonthPartialEvents);

// The longest span of `subject`'s timeline in days (storage/format.h); 0
// when it has none.
absl::StatusOr<uint32_t> LongestSpan(const storage::EventLog& log,
                                     absl::string_view subject);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_AS_OF_H_
