// The orders and rules a relationship state's parts are kept by, shared by
// the fold (services/model/projection.cc) and the merge of two folds
// (services/model/state_merge.cc).
#ifndef ANNALS_SERVICES_MODEL_STATE_ORDER_H_
#define ANNALS_SERVICES_MODEL_STATE_ORDER_H_

#include <tuple>

#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/relationship.pb.h"
#include "services/model/occurred_interval.h"

namespace annals::services {

// The total order of events: occurred interval (first day, then last day;
// services/model/occurred_interval.h), then id.
using EventKey = std::tuple<DayInterval, absl::string_view>;

inline EventKey KeyOf(const v1::Occurred& occurred, absl::string_view id) {
  return {IntervalOf(occurred), id};
}
inline EventKey KeyOf(const v1::Event& event) {
  return KeyOf(event.occurred(), event.id());
}
inline EventKey KeyOf(const v1::EventRef& ref) {
  return KeyOf(ref.occurred(), ref.event_id());
}

// True when `ref` is unset (no event yet) or orders before `candidate`.
inline bool IsBefore(bool has_ref, const v1::EventRef& ref,
                     const v1::EventRef& candidate) {
  return !has_ref || KeyOf(ref) < KeyOf(candidate);
}

// Sets or clears `agreement->suspended_by` from the policy records (see
// AgreementRecord.suspended_by in relationship.proto). A function of the
// agreement and the policy record only, so either order of arrival of the
// agreement and the policy changes gives the same bytes.
void UpdateSuspension(const v1::RelationshipState& state,
                      v1::AgreementRecord* agreement);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_STATE_ORDER_H_
