// Which events a subscription delivers (annals.v1.SubscriptionFilter),
// validated once when the call arrives and then matched against every event
// the subscription passes.
#ifndef ANNALS_SERVICES_SUBSCRIPTIONS_FILTER_H_
#define ANNALS_SERVICES_SUBSCRIPTIONS_FILTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/subscription.pb.h"
#include "proto/rpc_status.h"

namespace annals::services {

// `text` as a dyad: two different known actor codes joined by "-", in
// either order; the result has them sorted ("PRK-JPN" -> "JPN-PRK"), the
// form of a dyad's stream and relationship key. On failure returns "" and
// sets `*problem` to a description for a field violation.
std::string ParseDyad(absl::string_view text, std::string* problem);

// The kind names of Event.what ("meeting", ..., "correction"), as KindName
// returns them.
const std::vector<std::string>& EventKindNames();

class EventFilter {
 public:
  // Matches every event.
  EventFilter() = default;

  // Validates `filter`, appending one violation per bad field to `out`,
  // named "<path>.dyad", "<path>.kinds[1]", ...; returns the filter, with
  // the dyad sorted, when there were none.
  static EventFilter Parse(const v1::SubscriptionFilter& filter,
                           absl::string_view path,
                           std::vector<rpc::FieldViolation>* out);

  // True when `event` satisfies every criterion (see subscription.proto).
  // Thread-safe; allocates nothing.
  bool Matches(const v1::RecordedEvent& event) const;

  // True when it matches every event.
  bool all() const { return all_; }

 private:
  bool all_ = true;
  std::string stream_;
  std::string dyad_a_, dyad_b_;  // sorted codes; empty: no dyad criterion
  std::string actor_;
  absl::flat_hash_set<std::string> kinds_;
  absl::flat_hash_set<std::string> tags_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SUBSCRIPTIONS_FILTER_H_
