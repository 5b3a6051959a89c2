#include "services/auth/failure_limiter.h"

#include <algorithm>

namespace annals::auth {
namespace {

// Above this many addresses, those whose bucket has refilled are
// forgotten, so that failures from many addresses cannot grow the map
// without bound.
constexpr size_t kPruneAbove = 4096;

}  // namespace

FailureLimiter::FailureLimiter(int per_minute)
    : per_minute_(per_minute),
      refill_(per_minute > 0 ? absl::Minutes(1) / per_minute
                             : absl::InfiniteDuration()) {}

double FailureLimiter::Attempts(double left, absl::Time last,
                                absl::Time now) const {
  return std::min<double>(per_minute_, left + (now - last) / refill_);
}

std::optional<absl::Duration> FailureLimiter::Refused(absl::string_view peer,
                                                      absl::Time now) const {
  if (per_minute_ == 0 || size_.load(std::memory_order_relaxed) == 0) {
    return std::nullopt;
  }
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) return std::nullopt;
  const double left = Attempts(it->second.left, it->second.last, now);
  if (left >= 1) return std::nullopt;
  return refill_ * (1 - left);
}

void FailureLimiter::Failed(absl::string_view peer, absl::Time now) {
  if (per_minute_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (buckets_.size() >= kPruneAbove) {
    absl::erase_if(buckets_, [&](const auto& entry) {
      return Attempts(entry.second.left, entry.second.last, now) >= per_minute_;
    });
  }
  auto [it, added] = buckets_.try_emplace(peer, Bucket{double(per_minute_), now});
  Bucket& bucket = it->second;
  bucket.left = std::max(0.0, Attempts(bucket.left, bucket.last, now) - 1);
  bucket.last = now;
  size_.store(buckets_.size(), std::memory_order_relaxed);
}

}  // namespace annals::auth
