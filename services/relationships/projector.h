// The relationship projector: keeps the projections of storage/format.h
// (timelines, dyad histories, relationship states and their orderings) in
// the same WriteBatch as the events they derive from (storage/projector.h).
//
// Per event E at position p (not a correction):
//   - timeline entries for each of TimelineSubjectsOf(SubjectsOf(E)) (the
//     whole log, each dyad, an actor only where it is in none of E's
//     dyads) at E's occurred interval, pointing at p, and the longest span
//     of each subject (each actor too) widened to E's;
//   - a history entry at p for each dyad of E, and the dyad's month mark of
//     the month E's interval ends in set to p;
//   - for each dyad, E's refill index entries (below), pointing at p;
//   - for each dyad, the state with E applied (services/model/projection.h);
//     when the dyad's event count becomes a multiple of checkpoint_events,
//     a checkpoint: the whole state at p (storage/format.h, tag 0x05).
// Per correction C at position c of event X at position x:
//   - the timeline entries of X's previous content (the original, or the
//     latest amendment; none after a retraction) are removed, and those of
//     its new content (the amendment; none for a retraction) put, pointing
//     at c; the latest-correction entry of x becomes c;
//   - a history entry at c for every dyad of the previous or new content,
//     and each such dyad's month mark of the month that content ends in
//     set to c;
//   - the refill index entries of X's previous content are removed and
//     those of its new content put, pointing at c;
//   - in those dyads' states, X's previous content is taken out (Remove)
//     and its new content applied; what Remove could not restore (the
//     event was the last one, the last meeting, a kept agreement, the only
//     one with a tag, ...) is refilled from the index and the timeline:
//     a few seeks and event reads, however many events the dyad has;
//   - a checkpoint of each dyad whose latest checkpoint is at or after x
//     and whose state had X's previous content taken out. So between two
//     checkpoints of a dyad (and after its last) come only events that
//     add to its state, and corrections of events after the first of the
//     two: a state as of a position is the checkpoint before it with at
//     most checkpoint_events of the dyad's history folded over it, however
//     many events the dyad has (services/relationships/queries.cc).
// The refill index (refill_index.h): per dyad, the events each refill
// needs, ordered so the wanted ones come first or last: meetings that took
// place, agreements, statements, sanction events per (imposer, measure),
// policy changes (and hardening ones) per policy, and resolution events
// per (body, year). Tags need none: the state counts the events of each
// (RelationshipState.tag_counts).
// So the stored state of a dyad always equals BuildState over the dyad's
// effective events, whatever the order the events were appended in.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_PROJECTOR_H_
#define ANNALS_SERVICES_RELATIONSHIPS_PROJECTOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "services/relationships/answers.h"
#include "services/relationships/stored_state.h"
#include "storage/event_log.h"
#include "storage/projector.h"

namespace annals::services {

// Stored in meta with complete projections (storage/projector.h). Bump it
// whenever the projection's output changes: logs then rebuild on open.
// relationships/2: resolution sponsors count as sources (DyadsOf).
// relationships/3: only the 20 most recent agreements are kept.
// relationships/4: the refill index (tag 0x03 of dyad_timeline), so that a
// correction costs O(change) instead of a rebuild of its dyads.
// relationships/5: timeline values carry the content's kind.
// relationships/6: a dyad's state is stored with its current index, as the
// GetRelationshipResponse that answers for it.
// relationships/7: the state is split into a record of its bounded parts
// and entries of its long series (a year of months, a body's decade of
// resolutions), so a commit rewrites only what it changed.
// relationships/8: a correction's history entry says so (its value), so
// that a state as of a position reads each event of the dyad once.
// relationships/9: occurred dates are intervals (services/model/
// occurred_interval.h): timelines and facets keyed by first and last day,
// events not in one month in month-0 buckets, longest spans kept.
// relationships/10: checkpoints of each dyad's state (tag 0x05).
// relationships/11: year marks (tag 0x06), so that a state as of a date
// merges kept per-year partial states.
// relationships/12: month marks in their place, for per-month partials.
// relationships/13: agreements, policies, recent statements and sanctions
// in entries of their own, written only by the events that change them.
// relationships/14: states count the events of each tag (tag_counts), and
// the refill index has no facet per tag.
// relationships/15: an actor has timeline entries only for the events
// where it is in none of the event's dyads (TimelineSubjectsOf).
inline constexpr char kRelationshipProjectionVersion[] = "relationships/15";

// Effective events of a dyad between two of its checkpoints (at most).
// A state as of a position folds up to this many events over a checkpoint
// of up to ~72 KB (the busiest dyad of the generated 1M-event log; most
// are far smaller).
inline constexpr uint64_t kCheckpointEvents = 256;

// Dyads whose states a commit group leaves for the next to take instead of
// parsing their records (carried_states.h): the states of up to this many
// dyads, each its record's bytes (883 on average in the WAL of 64
// single-event sessions of generated events) and the record parsed.
inline constexpr size_t kMaxLeftStates = 2048;

// The subjects of `event`: "" (the whole log), each actor of its source
// and target (and a resolution's sponsors), and each of DyadsOf(event).
// Sorted, no repeats. Each has its timeline's longest span.
std::vector<std::string> SubjectsOf(const v1::Event& event);

// Of `subjects`, SubjectsOf(event), those under which the event has
// timeline entries: "" and each of DyadsOf(event), and each actor in none
// of those dyads (an actor alone, a source towards itself). An actor's
// timeline is its entries merged with those of its dyads
// (actor_timeline.h), so that an event of one dyad writes two timeline
// entries, not four. Sorted, no repeats.
std::vector<std::string> TimelineSubjectsOf(
    const std::vector<std::string>& subjects);

// The content an entry's value position holds: the event itself, or for an
// amending correction the amended event under the corrected event's id.
v1::Event ContentOf(const v1::RecordedEvent& recorded);

// The position-independent keys under which a dyad is ordered in the
// relationships family (storage/format.h): by last event, by current index.
std::string ByActivityKeyOf(const v1::RelationshipState& state);
std::string ByIndexKeyOf(absl::string_view dyad, const v1::GoldsteinIndex& index);

class RelationshipProjector final : public storage::Projector {
 public:
  // Keeps GetRelationship's answers up to `answer_bytes` (0: none) in
  // answers(), told of every state it changes.
  // `checkpoint_events` (>= 1): effective events of a dyad per checkpoint;
  // smaller in tests, to have many.
  explicit RelationshipProjector(size_t answer_bytes = 0,
                                 uint64_t checkpoint_events = kCheckpointEvents);
  ~RelationshipProjector() override;

  std::string Version() const override {
    return kRelationshipProjectionVersion;
  }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       storage::ProjectionContext* context) override;
  void RebuildStarting() override { answers_.RebuildStarting(); }
  void RebuildEnded() override { answers_.RebuildEnded(); }

  // The answers of the log this projector projects (ServerOptions): any
  // other log's would be stale.
  RelationshipAnswers* answers() { return &answers_; }

 private:
  // The states each commit group leaves for the next (carried_states.h).
  class Left;

  RelationshipAnswers answers_;
  const uint64_t checkpoint_events_;
  std::unique_ptr<Left> left_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_PROJECTOR_H_
