// An actor's timeline, read as one. An event writes timeline entries under
// each of its dyads and under the whole log, and under an actor only when
// the actor is in none of the event's dyads (TimelineSubjectsOf in
// projector.h): an actor alone, or a source towards itself. So an actor's
// timeline is its own entries merged with those of every dyad it belongs
// to, an event in several of them (two sources towards the actor) once.
//
// Why merged, not stored: two fewer keys per event of one dyad (12.6 ->
// 10.6 in the benchmark's events), in the family every level-0
// compaction rewrites whole (docs/design.md, "On a large log"); the
// price is one seek per dyad of the actor for each page.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_ACTOR_TIMELINE_H_
#define ANNALS_SERVICES_RELATIONSHIPS_ACTOR_TIMELINE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/event_log.h"

namespace annals::services {

// The dyads with `actor` that the relationships family orders
// (format::ByActivityKey): every dyad that has had an effective event.
// Sorted.
absl::StatusOr<std::vector<std::string>> DyadsWithActor(
    const storage::EventLog& log, absl::string_view actor);

// Calls `visit` for each timeline entry of `actor`, keyed as if stored
// under the actor (format::TimelineKey(actor, first day, last day,
// position)), in key order for `direction`, each key once, until `visit`
// returns false. Forward from the first key >= `start`, backward from the
// last key <= `start`; `start` begins with format::TimelinePrefix(actor).
// Each source (the actor, each of DyadsWithActor) is read on a snapshot of
// its own, a chunk at a time: an entry committed meanwhile may or may not
// be visited, as on the next page of any query.
absl::Status ScanActorTimeline(
    const storage::EventLog& log, absl::string_view actor,
    absl::string_view start, storage::Direction direction,
    const std::function<bool(absl::string_view key, absl::string_view value)>&
        visit);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_ACTOR_TIMELINE_H_
