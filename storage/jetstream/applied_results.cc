// Answers by sequence, and their waiters (applied_results.h).
#include "storage/jetstream/applied_results.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace annals::storage::jetstream {
namespace {

absl::Status Unknown(uint64_t sequence) {
  return absl::UnavailableError(absl::StrCat(
      "the append was committed at sequence ", sequence,
      " of the log of record, but its answer is no longer known here; a "
      "retry with the same event ids is safe and answers with its "
      "positions"));
}

}  // namespace

void AppliedResults::Applied(uint64_t sequence,
                             absl::StatusOr<AppendResult> answer) {
  std::vector<Callback> ready;
  {
    absl::MutexLock lock(&mu_);
    applied_ = std::max(applied_, sequence);
    auto [first, last] = waiters_.equal_range(sequence);
    for (auto it = first; it != last; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(first, last);
    if (keep_ > 0) {
      kept_.emplace_back(sequence, answer);
      while (kept_.size() > keep_) kept_.pop_front();
    }
  }
  for (Callback& done : ready) std::move(done)(answer);
}

void AppliedResults::Skipped(uint64_t sequence) {
  std::vector<std::pair<uint64_t, Callback>> ready;
  {
    absl::MutexLock lock(&mu_);
    applied_ = std::max(applied_, sequence);
    auto end = waiters_.upper_bound(sequence);
    for (auto it = waiters_.begin(); it != end; ++it) {
      ready.emplace_back(it->first, std::move(it->second));
    }
    waiters_.erase(waiters_.begin(), end);
  }
  for (auto& [at, done] : ready) std::move(done)(Unknown(at));
}

void AppliedResults::WhenApplied(uint64_t sequence, Callback done) {
  absl::StatusOr<AppendResult> answer;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_.ok()) {
      answer = closed_;
    } else if (sequence > applied_) {
      waiters_.emplace(sequence, std::move(done));
      return;
    } else {
      answer = Unknown(sequence);
      // kept_ is in sequence order.
      auto it = std::lower_bound(
          kept_.begin(), kept_.end(), sequence,
          [](const auto& kept, uint64_t s) { return kept.first < s; });
      if (it != kept_.end() && it->first == sequence) answer = it->second;
    }
  }
  std::move(done)(std::move(answer));
}

bool AppliedResults::AwaitApplied(uint64_t sequence, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto reached = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return applied_ >= sequence || !closed_.ok();
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  return applied_ >= sequence;
}

void AppliedResults::Close(const absl::Status& status) {
  std::multimap<uint64_t, Callback> waiters;
  {
    absl::MutexLock lock(&mu_);
    closed_ = status;
    waiters.swap(waiters_);
  }
  for (auto& [sequence, done] : waiters) std::move(done)(status);
}

}  // namespace annals::storage::jetstream
