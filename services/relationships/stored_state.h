// How a dyad's relationship state is stored (relationships family), and
// how a query reads it back.
//
// A state's unbounded series, and the lists only some kinds of events
// change, live in entries of their own, so that a commit group rewrites
// the few it changes rather than the whole state (tens of KB on a large
// log; the record of the busiest dyad of the generated 1M-event log
// would hold ~22 KB, most of it policies and agreements):
//   dyad                                 the record: GetRelationshipResponse
//                                        {state without the entries' lists,
//                                        CurrentIndexOf (the whole state)}
//   dyad || 0x00 || 'a'                  RelationshipState{agreements}
//   dyad || 0x00 || 'g' || BE32 year     RelationshipState{goldstein_monthly:
//                                        [the months of that year]}
//   dyad || 0x00 || 'p'                  RelationshipState{policies}
//   dyad || 0x00 || 'r' || body || 0x00 || BE32 decade (year / 10)
//                                        RelationshipState{resolutions:
//                                        [that body's records of the decade]}
//   dyad || 0x00 || 's'                  RelationshipState{recent_statements}
//   dyad || 0x00 || 'x'                  RelationshipState{sanctions}
// all serialized deterministically; an entry whose list is empty is not
// stored. Key order within each series is the state's order of that list
// (years are 1-9999, bodies organisation codes); a whole list is one
// entry, in the state's order. Series entries hold a year or a decade
// rather than one record so that reading a state is a few dozen entries,
// not hundreds. The record holds what every event changes (counts, ends,
// the last meeting, tags) and what ListRelationships answers from.
//
// GetRelationship's answer for the current state (AssembleRelationship)
// is the GetRelationshipResponse less `head`: one `state` field holding
// the record's state bytes followed by every entry's bytes (the entries
// hold series only, and a parser appends what repeated fields it reads),
// then the record's index. A query answers with those bytes and the head
// appended, without parsing them. The state goes out as one field, not
// the record and an occurrence of `state` per entry, because decoders
// that do not merge repeated occurrences of an embedded message
// (protobufjs 7 keeps the last one) would see only the last entry.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_STORED_STATE_H_
#define ANNALS_SERVICES_RELATIONSHIPS_STORED_STATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "storage/event_log.h"

namespace annals::services {

// dyad || 0x00: where the entries of `dyad`'s series start.
std::string RelationshipPartsPrefix(absl::string_view dyad);
std::string MonthPartsPrefix(absl::string_view dyad);
// The entry holding the months of `year`.
std::string MonthPartKey(absl::string_view dyad, int year);
// The entry holding `body`'s resolution record of `year`.
std::string ResolutionPartKey(absl::string_view dyad, absl::string_view body,
                              int year);

// The lists stored whole in an entry each (above), by their key letter.
enum class StateList : char {
  kAgreements = 'a',
  kPolicies = 'p',
  kRecentStatements = 's',
  kSanctions = 'x',
};
inline constexpr StateList kStateLists[] = {
    StateList::kAgreements, StateList::kPolicies,
    StateList::kRecentStatements, StateList::kSanctions};
// The entry holding `list` of `dyad`'s state.
std::string ListPartKey(absl::string_view dyad, StateList list);
// The bytes of that entry for `state`'s list, serialized in place (set
// aside and put back, no copy); empty when the list is.
std::string ListEntryOf(v1::RelationshipState* state, StateList list);
// The lists `content` reads or changes when applied to or removed from a
// state (services/model/projection.h): its kind's list, and for
// agreements and policy changes both (an agreement's suspension follows
// the policy records).
std::vector<StateList> ListsOf(const v1::Event& content);

// Takes the entries' lists out of `state` (dropping them): what is left is
// what its record holds.
void ClearEntryLists(v1::RelationshipState* state);

// The record of `state`, whose CurrentIndexOf is `index`. The entries'
// lists are set aside while it is serialized (no copy of the state) and
// put back.
std::string RelationshipRecordOf(v1::RelationshipState* state,
                                 const v1::GoldsteinIndex& index);

// The answer of `dyad` from its record and its series entries in key
// order (above); DATA_LOSS naming `dyad` when the record does not parse.
absl::StatusOr<std::string> AssembleRelationship(
    absl::string_view dyad, absl::string_view record,
    const std::vector<std::string>& parts);

// AssembleRelationship for `dyad` from one snapshot of `log`; NOT_FOUND
// when the dyad has no state (no events), DATA_LOSS when its record does
// not parse.
absl::StatusOr<std::string> ReadStoredRelationship(const storage::EventLog& log,
                                                   absl::string_view dyad);

// The GetRelationshipResponse in assembled (or record) bytes; DATA_LOSS
// naming `dyad` when they do not parse or hold another dyad.
absl::StatusOr<v1::GetRelationshipResponse> ParseStoredResponse(
    absl::string_view bytes, absl::string_view dyad);
// Its state.
absl::StatusOr<v1::RelationshipState> ParseStoredRelationship(
    absl::string_view bytes, absl::string_view dyad);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_STORED_STATE_H_
