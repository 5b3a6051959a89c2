// The answers of the committed appends a replica has applied, by sequence,
// for the appends this replica published: a publisher learns its append's
// sequence from JetStream's acknowledgment and waits here until its own
// replica has decided it.
#ifndef ANNALS_STORAGE_JETSTREAM_APPLIED_RESULTS_H_
#define ANNALS_STORAGE_JETSTREAM_APPLIED_RESULTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/event_log.h"

namespace annals::storage::jetstream {

class AppliedResults {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

  // Keeps the answers of the last `keep` sequences.
  explicit AppliedResults(size_t keep) : keep_(keep) {}

  // Sequence `sequence` was applied with `answer` (in sequence order).
  // Calls its waiters, on this thread.
  void Applied(uint64_t sequence, absl::StatusOr<AppendResult> answer)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Sequences up to `sequence` are applied but their answers are unknown
  // here (the replica restarted from a later sequence): their waiters get
  // UNAVAILABLE saying a retry with the same ids is safe.
  void Skipped(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `done` with the answer of `sequence` once it is applied: at once
  // when it is (UNAVAILABLE when it is no longer kept), else on the thread
  // that calls Applied.
  void WhenApplied(uint64_t sequence, Callback done) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until `sequence` is applied or `deadline` passes; true if it is.
  bool AwaitApplied(uint64_t sequence, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Answers every waiter with `status` (the log is closing); later
  // WhenApplied calls get it at once.
  void Close(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t keep_;
  absl::Mutex mu_;
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<uint64_t, absl::StatusOr<AppendResult>>> kept_
      ABSL_GUARDED_BY(mu_);
  std::multimap<uint64_t, Callback> waiters_ ABSL_GUARDED_BY(mu_);
  absl::Status closed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::storage::jetstream

#endif  // ANNALS_STORAGE_JETSTREAM_APPLIED_RESULTS_H_
