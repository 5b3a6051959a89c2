// Failed authentication attempts per peer address: each address may fail
// `per_minute` times in a burst, and earns one more attempt every
// 60 s / per_minute (a token bucket). While an address has none left,
// every call from it is refused before its credentials are looked at, so
// that guessing a token from one address takes years, and a right guess
// made while refused is never told apart from a wrong one.
//
// Thread-safe.
#ifndef ANNALS_SERVICES_AUTH_FAILURE_LIMITER_H_
#define ANNALS_SERVICES_AUTH_FAILURE_LIMITER_H_

#include <atomic>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace annals::auth {

class FailureLimiter {
 public:
  // `per_minute` 0: no limit.
  explicit FailureLimiter(int per_minute);

  // When `peer` may try again: nullopt when it may try now, else how long
  // it is to wait (at `now`).
  std::optional<absl::Duration> Refused(absl::string_view peer,
                                        absl::Time now) const;

  // Counts a failed attempt of `peer` at `now`.
  void Failed(absl::string_view peer, absl::Time now);

 private:
  // Attempts `bucket` holds at `now`, refilled since it was last counted.
  double Attempts(double left, absl::Time last, absl::Time now) const;

  // Constant after construction.
  const int per_minute_;
  const absl::Duration refill_;  // one attempt earned per refill_

  mutable absl::Mutex mu_;
  struct Bucket {
    double left;
    absl::Time last;
  };
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  // buckets_.size(), read without the lock: calls from addresses that never
  // failed (all of them, usually) take no lock.
  std::atomic<size_t> size_{0};
};

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_FAILURE_LIMITER_H_
