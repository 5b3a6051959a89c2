// The relationship projector: keeps the projections of storage/format.h
// (timelines, dyad histories, relationship states and their orderings) in
// the same WriteBatch as the events they derive from (storage/projector.h).
//
// Per event E at position p (not a correction):
//   - timeline entries for every subject of E (the whole log, each actor,
//     each dyad) at E's date key, pointing at p;
//   - a history entry at p for each dyad of E;
//   - for each dyad, E's refill index entries (below), pointing at p;
//   - for each dyad, the state with E applied (services/projection.h).
// Per correction C at position c of event X at position x:
//   - the timeline entries of X's previous content (the original, or the
//     latest amendment; none after a retraction) are removed, and those of
//     its new content (the amendment; none for a retraction) put, pointing
//     at c; the latest-correction entry of x becomes c;
//   - a history entry at c for every dyad of the previous or new content;
//   - the refill index entries of X's previous content are removed and
//     those of its new content put, pointing at c;
//   - in those dyads' states, X's previous content is taken out (Remove)
//     and its new content applied; what Remove could not restore (the
//     event was the last one, the last meeting, a kept agreement, the only
//     one with a tag, ...) is refilled from the index and the timeline:
//     a few seeks and event reads, however many events the dyad has.
// The refill index: per dyad, the events each refill needs, ordered so the
// wanted ones come first or last (dyad || 0x00 || 0x03 || facet || fields
// || BE32 date key || id -> BE64 position of the content; see
// FacetPrefix in relationship_projector.cc): meetings that took place,
// agreements, statements, sanction events per (imposer, measure), policy
// changes (and hardening ones) per policy, resolution events per (body,
// year), and events per tag.
// So the stored state of a dyad always equals BuildState over the dyad's
// effective events, whatever the order the events were appended in.
#ifndef ANNALS_SERVICES_RELATIONSHIP_PROJECTOR_H_
#define ANNALS_SERVICES_RELATIONSHIP_PROJECTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/relationship.pb.h"
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
// GetRelationshipResponse that answers for it (StoredRelationshipOf).
inline constexpr char kRelationshipProjectionVersion[] = "relationships/6";

// year * 10000 + month * 100 + day of the occurred start, unknown parts 0.
uint32_t DateKeyOf(const v1::Occurred& occurred);

// The timeline subjects of `event`: "" (the whole log), each actor of its
// source and target (and a resolution's sponsors), and each of
// DyadsOf(event). Sorted, no repeats.
std::vector<std::string> SubjectsOf(const v1::Event& event);

// The content an entry's value position holds: the event itself, or for an
// amending correction the amended event under the corrected event's id.
v1::Event ContentOf(const v1::RecordedEvent& recorded);

// The position-independent keys under which `state` is ordered in the
// relationships family (storage/format.h): by last event, by current index.
std::string ByActivityKeyOf(const v1::RelationshipState& state);
std::string ByIndexKeyOf(const v1::RelationshipState& state);

// What the relationships family stores under a dyad: the
// GetRelationshipResponse for its current state less `head`, that is the
// state and CurrentIndexOf(state), serialized deterministically. A query
// for the current state answers with these bytes and the head appended
// (protobuf merges concatenated messages), without parsing them.
std::string StoredRelationshipOf(const v1::RelationshipState& state);

// The state in StoredRelationshipOf's bytes; DATA_LOSS naming `dyad` when
// they do not parse or hold another dyad.
absl::StatusOr<v1::RelationshipState> ParseStoredRelationship(
    absl::string_view bytes, absl::string_view dyad);

class RelationshipProjector final : public storage::Projector {
 public:
  std::string Version() const override {
    return kRelationshipProjectionVersion;
  }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       storage::ProjectionContext* context) override;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIP_PROJECTOR_H_
