// A small fixed pool of threads for the work of subscriptions that must run
// neither on the log's writer thread nor on gRPC's threads: storage reads
// for catch-up, relationship reads, and waking subscribers after a commit.
#ifndef ANNALS_SERVICES_SUBSCRIPTIONS_EXECUTOR_H_
#define ANNALS_SERVICES_SUBSCRIPTIONS_EXECUTOR_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace annals::services {

class SubscriptionExecutor {
 public:
  // Starts `threads` (>= 1) threads.
  explicit SubscriptionExecutor(int threads);
  // Shutdown(), then joins the threads.
  ~SubscriptionExecutor();

  SubscriptionExecutor(const SubscriptionExecutor&) = delete;
  SubscriptionExecutor& operator=(const SubscriptionExecutor&) = delete;

  // Queues `task` to run on one of the threads, in submission order (tasks
  // may run concurrently with each other). Returns false, dropping the
  // task unrun, once Shutdown has been called. Thread-safe.
  bool Submit(absl::AnyInvocable<void() &&> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Stops accepting tasks; the threads run what is queued, then exit.
  // Waits for them. Idempotent; must not be called from a task.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Constant after construction, joined by Shutdown.
  std::vector<std::thread> threads_;
  absl::Mutex join_mu_;  // serializes Shutdown
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SUBSCRIPTIONS_EXECUTOR_H_
