// The relationship projection: pure functions from events to the
// `RelationshipState` of a dyad (proto/annals/v1/relationship.proto). No
// storage, no clock, no I/O; every function here is thread-safe.
//
// How the storage layer uses it:
//   - On append of a non-correction event E: for each dyad in DyadsOf(E),
//     load the state (a new state has only `dyad` set), Apply(E, &state),
//     store it in the same WriteBatch as the event.
//   - On append of a correction (amend or retract) of event X: the dyads
//     touched are DyadsOf(X as it was) plus DyadsOf(the amended X). In
//     each, Remove(X as it was), Apply(the amended X), then refill the
//     parts Remove names (ApplyPart) from the dyad's other
//     events: the state is then BuildState over its new set of events, at
//     a cost that does not grow with the dyad (services/
//     relationship_projector.h keeps the index the refills read).
//   - Rebuilding everything from the log: EffectiveEvents over the whole log,
//     then BuildState per dyad. The result is byte-identical (SerializeState)
//     to the incrementally maintained states.
//
// Why this works: Apply is commutative for non-correction events — applying
// the same set of events in any order yields byte-identical state — because
// every "first"/"latest" choice is a maximum under a total order (occurred
// interval, services/model/occurred_interval.h, then id), every list is
// kept sorted by a total order, sets are sorted without repeats, bounded
// lists keep the top N of a total order, and sums are of integers.
#ifndef ANNALS_SERVICES_MODEL_PROJECTION_H_
#define ANNALS_SERVICES_MODEL_PROJECTION_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "annals/v1/event.pb.h"
#include "proto/event_kind.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "google/protobuf/message_lite.h"

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

// Whether `actor` is one of the two actors of `dyad` ("JPN-PRK"). Actor
// codes never contain '-'.
bool DyadHasActor(absl::string_view dyad, absl::string_view actor);

// Adds `event` to `state`. Pure and commutative (see the top of this file).
// Requires: `state->dyad()` is set (the caller sets it on a new state) and
// is one of DyadsOf(event); `event` is valid (services/model/validation.h) and
// not already applied (applying an event twice counts it twice). A
// correction is ignored: corrections are resolved by EffectiveEvents and a
// rebuild (BuildState), never applied.
void Apply(const v1::Event& event, v1::RelationshipState* state);

// --- Taking an event out: corrections ---
//
// Counts and sums can be subtracted, but the parts that keep a maximum, a
// top N or a union lose their value only when the removed event was the
// one they kept, and must then be refilled from the remaining events. Each
// such part is a fold that ignores an event of the set applied to it again
// (a maximum, a top N without repeats, a union) — except a resolution
// record, which counts its events and so is gathered again in full.

// The parts of a state that ApplyPart adds one event to.
enum class StatePart {
  kEnds,         // first_event and last_event
  kLastMeeting,  // last_meeting (not leaders_meeting_count)
  kAgreements,   // agreements (their suspended_by from the policies)
  kStatements,   // recent_statements
  kSanctions,    // sanctions: every (imposer, measure) the event names
  kPolicies,     // policies (and the suspended_by of matching agreements)
  kResolutions,  // resolutions: the (body, year) record, counted
};

// What Remove could not restore from the state alone. Once every part named
// here is refilled as said, the state equals BuildState over the remaining
// events. Refilling with extra events of the remaining set is harmless,
// except for `resolutions`.
struct Refill {
  // first_event / last_event was the removed event and is now unset:
  // ApplyPart(kEnds) with every remaining event of the smallest / greatest
  // occurred interval (all the ties: the id decides among them).
  bool first_event = false;
  bool last_event = false;
  // last_meeting was the removed event and is now unset: ApplyPart(
  // kLastMeeting) with the greatest remaining meeting that took place.
  bool last_meeting = false;
  // The removed agreement was one of the kMaxAgreements kept and is gone:
  // ApplyPart(kAgreements) with the kMaxAgreements greatest remaining
  // agreements (those already kept may be skipped).
  bool agreements = false;
  // The same for recent_statements and kRecentStatements.
  bool statements = false;
  // (imposer, measure) records whose latest event was the removed one; each
  // is gone: ApplyPart(kSanctions) with the greatest remaining sanction
  // event of that imposer naming that measure.
  std::vector<std::pair<std::string, std::string>> sanctions;
  // Policies whose latest or latest hardening change was the removed one;
  // each record is gone: ApplyPart(kPolicies) with the greatest remaining
  // change of that policy and the greatest remaining hardening change.
  std::vector<std::string> policies;
  // The (body, year) records the removed resolution event was gathered in;
  // each is gone: ApplyPart(kResolutions) with EVERY remaining resolution
  // event of that body and year, exactly once each.
  std::vector<std::pair<std::string, int>> resolutions;
};

// Takes `event` out of `state` (the inverse of Apply, but for the refills).
// Requires: `state` is the fold of a set of events that includes `event`
// (identified by its id, with the content it was applied with). A
// correction, or an event of no kind, is ignored like Apply ignores it.
Refill Remove(const v1::Event& event, v1::RelationshipState* state);

// Adds only `part` of `event`'s contribution to `state` (Apply adds all of
// it). Requires: as for Apply, and `event` is one of the remaining events
// (see Refill).
void ApplyPart(StatePart part, const v1::Event& event,
               v1::RelationshipState* state);

// The events of a log as if every correction had been written into the
// events it corrects. `events` is in position order (the log's order) and
// may include corrections. For each event id, the corrections naming it are
// taken in position order and the last one wins: AMEND replaces the
// content with the amended event (keeping the original id, whatever the
// amended event's `id`), RETRACT drops the event. A correction naming an
// id that is not a non-correction event of `events` is ignored. The
// corrections themselves are not in the result. The result is in canonical
// order: by occurred interval (first day, then last day), then id.
std::vector<v1::Event> EffectiveEvents(
    const std::vector<v1::RecordedEvent>& events);

// The state of `dyad` from `effective_events` (any order; normally the
// output of EffectiveEvents): a state with `dyad` set, with Apply folded
// over the events that touch `dyad` (corrections are skipped).
v1::RelationshipState BuildState(absl::string_view dyad,
                                 const std::vector<v1::Event>& effective_events);

// BuildState's step: Apply(event, state) when `event` is not a correction
// and touches `dyad` (DyadsOf). For folds that read events one at a time.
void ApplyIfTouches(absl::string_view dyad, const v1::Event& event,
                    v1::RelationshipState* state);

// `message` serialized deterministically
// (io::CodedOutputStream::SetSerializationDeterministic): equal messages
// give equal bytes. This is the form to store and to compare.
std::string SerializeDeterministic(const google::protobuf::MessageLite& message);
inline std::string SerializeState(const v1::RelationshipState& state) {
  return SerializeDeterministic(state);
}

// A calendar month.
struct YearMonth {
  int year = 0;
  int month = 0;  // 1 ... 12
  friend bool operator==(const YearMonth&, const YearMonth&) = default;
};

// The bucket of `goldstein_monthly` an event with this occurred date is
// counted in: the month its interval lies in (services/model/
// occurred_interval.h), or month 0 of the year it starts in when it does
// not lie in one month (known only to the year, or spanning months).
YearMonth GoldsteinBucketOf(const v1::Occurred& occurred);

// The latest month (month 1-12) that may hold events of
// `state.goldstein_monthly`: the latest month with events placed in it, or
// December of a later year whose month-0 bucket has events (they may have
// happened then). nullopt when there are no events.
absl::optional<YearMonth> LatestMonth(const v1::RelationshipState& state);

// LatestMonth of the buckets of `months` (sorted as goldstein_monthly is)
// up to `last`, whose year is the latest: December when that year has a
// month-0 bucket, else the month of `months[last]`.
YearMonth LatestMonthOfYear(
    const google::protobuf::RepeatedPtrField<v1::GoldsteinMonth>& months,
    int last);

// The cooperation-conflict index over a window of months.
struct GoldsteinWindow {
  // Events in the window.
  int64_t event_count = 0;
  // Sum of their scores, in tenths.
  int64_t sum_tenths = 0;
  // sum_tenths / event_count rounded to the nearest integer, halves away
  // from zero; 0 when event_count is 0.
  int64_t mean_tenths = 0;
  // Events not placed in a month (month-0 buckets) of the years the window
  // touches: not in the count, the sum or the mean.
  int64_t unplaced_count = 0;
};

// The index over the twelve months ending with `end` inclusive (for
// 2019-03: 2018-04 ... 2019-03), from `state.goldstein_monthly`. Events
// not placed in a month (month 0) are in no window's mean; those of the
// window's years are counted as unplaced. Computed when read, never
// stored: it depends on the month asked for.
GoldsteinWindow TrailingIndex(const v1::RelationshipState& state,
                              YearMonth end);

// TrailingIndex ending with LatestMonth(state); all zero when there is no
// latest month.
GoldsteinWindow CurrentIndex(const v1::RelationshipState& state);

// `window` as the API's index over the twelve months ending with `end`
// (unset when there is no such month).
v1::GoldsteinIndex ToIndex(const GoldsteinWindow& window,
                           absl::optional<YearMonth> end);

// ToIndex(CurrentIndex(state), LatestMonth(state)).
v1::GoldsteinIndex CurrentIndexOf(const v1::RelationshipState& state);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_PROJECTION_H_
