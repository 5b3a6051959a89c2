// Dyad states the relationship projector's commit groups leave behind, for
// the next group to take instead of parsing the dyad's stored record again
// (services/relationships/projector.cc: each group used to parse the
// record of every dyad it touched and destroy it after, ~6% of the
// writer's CPU at 64 single-event sessions).
//
// Each state stands for the record bytes it was kept with: Take hands it
// out only when the record the taker read is those very bytes. So a state
// is never stale, whatever became of the group that left it: a group whose
// projection or write failed (the stored record stayed the older one), a
// check's or a repair's projection into its scratch database (other bytes,
// or the same bytes, which parse to the same state). A state is taken out,
// not copied: a group that fails after taking it leaves none, and the next
// group parses the record again.
//
// Memory: at most `max_states` are kept; when a Keep would pass that, all
// are dropped first (the next groups parse again and keep anew), as the
// writer's ProjectionCache does. Thread-safe: a check of the projections
// on a snapshot projects beside the writer.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_CARRIED_STATES_H_
#define ANNALS_SERVICES_RELATIONSHIPS_CARRIED_STATES_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace annals::services {

template <typename State>
class CarriedStates {
 public:
  explicit CarriedStates(size_t max_states) : max_states_(max_states) {}

  CarriedStates(const CarriedStates&) = delete;
  CarriedStates& operator=(const CarriedStates&) = delete;

  // Moves the state kept for `dyad` into `*state` and returns true when it
  // was kept with `record`; false (and `*state` untouched) otherwise.
  // Either way none is kept for `dyad` any more.
  bool Take(absl::string_view dyad, absl::string_view record, State* state) {
    absl::MutexLock lock(&mu_);
    auto it = kept_.find(dyad);
    if (it == kept_.end()) return false;
    const bool same = it->second.record == record;
    if (same) *state = std::move(it->second.state);
    kept_.erase(it);
    return same;
  }

  // Keeps `state` for `dyad`, standing for the stored record `record`.
  void Keep(std::string dyad, std::string record, State state) {
    absl::MutexLock lock(&mu_);
    if (kept_.size() >= max_states_ && !kept_.contains(dyad)) kept_.clear();
    if (max_states_ == 0) return;
    kept_.insert_or_assign(std::move(dyad),
                           Kept{std::move(record), std::move(state)});
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return kept_.size();
  }

 private:
  struct Kept {
    std::string record;
    State state;
  };

  const size_t max_states_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Kept> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_CARRIED_STATES_H_
