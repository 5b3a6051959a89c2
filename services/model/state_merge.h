// Merging two states of one dyad folded over disjoint sets of events
// (services/model/projection.h): the state of the union, without the
// events. Every part of a state is a sum, a maximum, a top N or a union
// under a total order, so the parts combine as the fold would have.
//
// A state as of a date is the merge of per-year partial states (the fold
// of the events that ended in each year) and the fold of the events of
// the date's own year (services/relationships/queries.cc).
#ifndef ANNALS_SERVICES_MODEL_STATE_MERGE_H_
#define ANNALS_SERVICES_MODEL_STATE_MERGE_H_

#include "annals/v1/relationship.pb.h"

namespace annals::services {

// Makes `into` the fold of both states' events: afterwards it is
// byte-identical (SerializeState) to BuildState over the union.
// Requires: both states are folds (Apply) of events that touch the same
// dyad, `into` has it set, and no event is in both sets.
void MergeState(const v1::RelationshipState& from, v1::RelationshipState* into);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_STATE_MERGE_H_
