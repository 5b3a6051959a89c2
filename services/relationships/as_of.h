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
// `last_day`: the year partial (storage/format.h) of each earlier year
// with events, kept or folded from the timeline and then kept
// (EventLog::KeepCache), merged (services/model/state_merge.h) with the
// fold of the events of the day's own year that end by the day. Reads at
// most a year of the dyad's events (and its longest span before it) when
// the partials are current, however many the dyad has.
absl::StatusOr<StateByDay> StateAtDate(const storage::EventLog& log,
                                       const std::string& dyad,
                                       DayKey last_day);

// Folds and keeps every year partial of `dyad` that is not current, as
// StateAtDate would for a date after all of them. Returns how many it
// folded.
absl::StatusOr<int> KeepYearPartials(const storage::EventLog& log,
                                     const std::string& dyad);

// The longest span of `subject`'s timeline in days (storage/format.h); 0
// when it has none.
absl::StatusOr<uint32_t> LongestSpan(const storage::EventLog& log,
                                     absl::string_view subject);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_AS_OF_H_
