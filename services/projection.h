// The relationship projection: pure functions from events to the
// `RelationshipState` of a dyad (proto/annals/v1/relationship.proto). No
// storage, no clock, no I/O; every function here is thread-safe.
//
// How the storage layer uses it:
//   - On append of a non-correction event E: for each dyad in DyadsOf(E),
//     load the state (a new state has only `dyad` set), Apply(E, &state),
//     store it in the same WriteBatch as the event.
//   - On append of a correction (amend or retract) of event X: the dyads
//     touched are DyadsOf(X as it was) plus DyadsOf(the amended X). Rebuild
//     each of them with BuildState(dyad, EffectiveEvents(log)) — a
//     correction can remove an event's contribution, which Apply cannot.
//   - Rebuilding everything from the log: EffectiveEvents over the whole log,
//     then BuildState per dyad. The result is byte-identical (SerializeState)
//     to the incrementally maintained states.
//
// Why this works: Apply is commutative for non-correction events — applying
// the same set of events in any order yields byte-identical state — because
// every "first"/"latest" choice is a maximum under a total order (occurred
// sort key, then id), every list is kept sorted by a total order, sets are
// sorted without repeats, bounded lists keep the top N of a total order, and
// sums are of integers.
#ifndef ANNALS_SERVICES_PROJECTION_H_
#define ANNALS_SERVICES_PROJECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "annals/v1/event.pb.h"
#include "proto/event_kind.h"
#include "annals/v1/relationship.pb.h"

namespace annals::services {

// Most recent statements kept in RelationshipState.recent_statements.
inline constexpr int kRecentStatements = 10;
// Most recent agreements kept in RelationshipState.agreements: a state
// stays small however many agreements a dyad has (the total is in counts).
inline constexpr int kMaxAgreements = 20;

// The dyads `event` touches, as "AAA-BBB" with the two codes sorted
// (actor codes never contain '-'): the unordered pairs {s, t} for s in
// `source` and t in `target`; with no target, the pairs among the sources.
// A resolution's `sponsors` count as sources: "UNHRC adopts, sponsored by
// JPN and EU, against PRK" touches PRK-UNHRC, JPN-PRK and EU-PRK.
// Sorted, without repeats; pairs of an actor with itself are left out, so a
// single actor with no target touches no dyad (empty result). For a
// correction: the dyads of the correction event's own actors (the storage
// layer should use the corrected and amended events instead).
std::vector<std::string> DyadsOf(const v1::Event& event);

// Adds `event` to `state`. Pure and commutative (see the top of this file).
// Requires: `state->dyad()` is set (the caller sets it on a new state) and
// is one of DyadsOf(event); `event` is valid (services/validation.h) and
// not already applied (applying an event twice counts it twice). A
// correction is ignored: corrections are resolved by EffectiveEvents and a
// rebuild (BuildState), never applied.
void Apply(const v1::Event& event, v1::RelationshipState* state);

// The events of a log as if every correction had been written into the
// events it corrects. `events` is in position order (the log's order) and
// may include corrections. For each event id, the corrections naming it are
// taken in position order and the last one wins: AMEND replaces the
// content with the amended event (keeping the original id, whatever the
// amended event's `id`), RETRACT drops the event. A correction naming an
// id that is not a non-correction event of `events` is ignored. The
// corrections themselves are not in the result. The result is in canonical
// order: by occurred sort key (start year, month, day; missing parts as 0),
// then id.
std::vector<v1::Event> EffectiveEvents(
    const std::vector<v1::RecordedEvent>& events);

// The state of `dyad` from `effective_events` (any order; normally the
// output of EffectiveEvents): a state with `dyad` set, with Apply folded
// over the events that touch `dyad` (corrections are skipped).
v1::RelationshipState BuildState(absl::string_view dyad,
                                 const std::vector<v1::Event>& effective_events);

// `state` serialized deterministically
// (io::CodedOutputStream::SetSerializationDeterministic): equal states give
// equal bytes. This is the form to store and to compare.
std::string SerializeState(const v1::RelationshipState& state);

// A calendar month.
struct YearMonth {
  int year = 0;
  int month = 0;  // 1 ... 12
  friend bool operator==(const YearMonth&, const YearMonth&) = default;
};

// The latest month (month 1-12) with events in `state.goldstein_monthly`;
// nullopt when there is none (no events, or only year-precision ones).
absl::optional<YearMonth> LatestMonth(const v1::RelationshipState& state);

// The cooperation-conflict index over a window of months.
struct GoldsteinWindow {
  // Events in the window.
  int64_t event_count = 0;
  // Sum of their scores, in tenths.
  int64_t sum_tenths = 0;
  // sum_tenths / event_count rounded to the nearest integer, halves away
  // from zero; 0 when event_count is 0.
  int64_t mean_tenths = 0;
};

// The index over the twelve months ending with `end` inclusive (for
// 2019-03: 2018-04 ... 2019-03), from `state.goldstein_monthly`. Events
// known only to the year (month 0) are not in any window. Computed when
// read, never stored: it depends on the month asked for.
GoldsteinWindow TrailingIndex(const v1::RelationshipState& state,
                              YearMonth end);

// TrailingIndex ending with LatestMonth(state); all zero when there is no
// latest month.
GoldsteinWindow CurrentIndex(const v1::RelationshipState& state);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_PROJECTION_H_
