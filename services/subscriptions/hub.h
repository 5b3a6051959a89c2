// The subscription hub: what live subscriptions share. The log's writer
// tells it about every commit (LogOptions::on_commit); it keeps a bounded
// window of the most recent events in memory (serialized once, shared by
// every subscription: services/subscriptions/wire.h), wakes the
// subscriptions that wait for new events — relationship watchers only for
// commits that touch their dyad — and runs their storage reads on a small
// executor.
//
// The hub knows nothing of gRPC; the Subscriptions service
// (services/subscriptions/service.h) builds one reactor per subscriber on it.
//
// Lifecycle, in this order:
//   SubscriptionHub hub(options);
//   log_options.on_commit = hub.CommitListener();
//   log = OpenRocksEventLog(dir, log_options);
//   hub.Attach(log.get());              // Server::Start does this
//   ... serve ...
//   hub.Shutdown();                     // ends every subscription
//   ... grpc shutdown, log->Close() ...
//   hub.Drain();                        // nothing touches the log after it
//   log.reset();  // then the hub may go
#ifndef ANNALS_SERVICES_SUBSCRIPTIONS_HUB_H_
#define ANNALS_SERVICES_SUBSCRIPTIONS_HUB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "annals/v1/subscription.pb.h"
#include "absl/strings/string_view.h"
#include "services/subscriptions/executor.h"
#include "services/subscriptions/wire.h"
#include "storage/event_log.h"

namespace annals::services {

// Told of what subscriptions deliver, for metrics. Called on the threads
// that write to subscribers; must be quick.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  // `events` events were handed to gRPC for one subscriber, the last of
  // them `lag` positions behind the hub's head.
  virtual void Delivered(size_t events, uint64_t lag) = 0;
  // A live subscriber fell out of the window (it consumed slower than the
  // log grew) and reads storage until it catches up again.
  virtual void FellBehind() = 0;
};

struct SubscriptionOptions {
  // --- Affects behaviour ---

  // Most subscriptions (Subscribe and WatchRelationship calls) open at once;
  // more get RESOURCE_EXHAUSTED with a hint to retry (MomentaryRefusal,
  // services/admission/admission.h). Default 10000.
  size_t max_subscriptions = 10000;

  // A subscription that has passed this many positions without sending a
  // message (its filter left them out) sends a Checkpoint. Default 1000.
  uint64_t checkpoint_positions = 1000;
  // ... and so does one that has sent nothing for this long, at its next
  // commit. Default 1 s.
  absl::Duration checkpoint_interval = absl::Seconds(1);

  // --- Affects performance ---

  // The live window: the most recent events kept in memory, by count and
  // by serialized size (the older bound wins). A subscription further
  // behind than the window reads from storage and is told it fell behind.
  // Defaults 8192 events, 32 MiB. At least 1 event.
  size_t window_events = 8192;
  size_t window_bytes = 32 << 20;

  // Events one catch-up read takes from storage (one task on the executor;
  // also the most a subscription holds before writing, and so the most one
  // batched message carries). Default 256.
  size_t read_page_events = 256;

  // Threads shared by all subscriptions for storage reads and wake-ups.
  // Default 2.
  int executor_threads = 2;

  // The least time between two wake-ups of the subscriptions waiting at
  // the head. A commit that comes sooner after the last wake-up is
  // delivered with the commits after it, at most this much later, in one
  // message per subscription instead of one each: on a busy log, fewer
  // messages for as many events. A commit after a quiet spell is delivered
  // at once. Zero: every commit wakes its waiters at once. Default zero.
  absl::Duration wake_interval = absl::ZeroDuration();

  // --- Observation ---

  // Not owned; must outlive the hub. Default none.
  DeliveryObserver* observer = nullptr;
};

// A subscription as the hub sees it.
class HubSubscriber {
 public:
  virtual ~HubSubscriber() = default;
  // New events were committed after the position it waited on (see
  // SubscriptionHub::WaitForCommit). Called once per wait, on an executor
  // thread; must not block.
  virtual void OnCommitted() = 0;
  // The hub is shutting down: finish with `status`. Called at most once,
  // with the hub's lock held: it must not block nor call the hub, except
  // SubscriptionHub::Submit to do the work on the executor.
  virtual void Stop(const absl::Status& status) = 0;
};

class SubscriptionHub {
 public:
  explicit SubscriptionHub(const SubscriptionOptions& options);
  // Drain()s.
  ~SubscriptionHub();

  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  // The function to set as LogOptions::on_commit. It serializes the group's
  // events once into the window (evicting the oldest) and hands the waiting
  // subscriptions to the executor; it never blocks on a subscriber. While
  // no subscription is open it copies nothing and keeps the window empty.
  // While relationship watchers wait, it also works out the dyads the
  // group touches (services/model/projection.h, DyadsOf) to wake only theirs.
  // The hub must outlive the log.
  std::function<void(const std::vector<const v1::RecordedEvent*>&,
                     const storage::Head&)>
  CommitListener();

  // Starts serving subscriptions of `log`, which must have been opened with
  // CommitListener() and outlive Drain(). The window starts empty at the
  // log's head. Call once, before Register.
  void Attach(storage::EventLog* log) ABSL_LOCKS_EXCLUDED(mu_);

  const SubscriptionOptions& options() const { return options_; }
  // Constant after Attach.
  storage::EventLog* log() const { return log_; }

  // The last position the hub has seen committed.
  uint64_t head() const ABSL_LOCKS_EXCLUDED(mu_);

  // Adds a subscription. UNAVAILABLE once Shutdown was called,
  // RESOURCE_EXHAUSTED when max_subscriptions are open. Thread-safe.
  absl::Status Register(HubSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes it, and its wait if any. Afterwards the hub calls it no more,
  // except for OnCommitted of a wait that CancelWait could no longer
  // remove (it was already handed to the executor). Thread-safe.
  void Unregister(HubSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);
  // Open subscriptions.
  size_t subscriptions() const ABSL_LOCKS_EXCLUDED(mu_);
  // OnCommitted calls handed to the executor so far: a subscription that
  // waits for commits costs one per commit it waited for; one whose write
  // is stalled waits for none (monitoring, tests).
  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }

  // What Fetch found at a position.
  struct Fetched {
    enum class Kind {
      kEvents,   // `events` holds positions from `next` on
      kAtHead,   // `next` is past the head: nothing yet
      kEvicted,  // `next` is older than the window: read storage
    };
    Kind kind = Kind::kAtHead;
    std::vector<WireEventPtr> events;  // consecutive positions
    uint64_t head = 0;                  // the hub's head when fetched
  };
  // Up to `max` (>= 1) events of the window from position `next` on.
  // Thread-safe; never waits for the writer.
  Fetched Fetch(uint64_t next, size_t max) const ABSL_LOCKS_EXCLUDED(mu_);

  // Registers `subscriber` to be told (once, OnCommitted) when the head
  // passes `position`, and returns true; returns false, registering
  // nothing, when it already has. Each successful wait ends either with
  // exactly one OnCommitted or with a CancelWait that returns true.
  // Thread-safe.
  bool WaitForCommit(uint64_t position, HubSubscriber* subscriber)
      ABSL_LOCKS_EXCLUDED(mu_);
  // WaitForCommit for a relationship watcher: told only when a commit after
  // `position` touches `dyad` (sorted, "JPN-PRK") — or may have: a commit
  // with a correction (which changes the dyads of the event it corrects)
  // wakes every dyad waiter. Same contract as WaitForCommit otherwise;
  // CancelWait removes it. Thread-safe.
  bool WaitForDyad(absl::string_view dyad, uint64_t position,
                   HubSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);

  // True when it removed a wait (so OnCommitted will not be called for it).
  bool CancelWait(HubSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `task` on the executor. False (task dropped) after Drain started.
  bool Submit(absl::AnyInvocable<void() &&> task);

  // Refuses new subscriptions and calls Stop(UNAVAILABLE) on every open
  // one. Does not wait. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // Shutdown(), then waits until every subscription has unregistered and
  // the executor has run its last task: afterwards nothing of the hub
  // touches the log. Idempotent.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void OnCommit(const std::vector<const v1::RecordedEvent*>& events,
                const storage::Head& head) ABSL_LOCKS_EXCLUDED(mu_);
  bool CancelWaitLocked(HubSubscriber* subscriber)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands `woken` to the executor, in chunks.
  void Wake(std::vector<HubSubscriber*> woken);
  // With a wake_interval: hands what commits left in due_ to Wake, once
  // per interval, until Shutdown.
  void PaceWakeups() ABSL_LOCKS_EXCLUDED(mu_);

  // --- Constant after construction (log_: after Attach) ---
  const SubscriptionOptions options_;
  storage::EventLog* log_ = nullptr;
  SubscriptionExecutor executor_;
  std::atomic<uint64_t> wakeups_{0};

  mutable absl::Mutex mu_;
  // The window: consecutive positions first_ .. head_ (empty when
  // first_ == head_ + 1), with their total serialized size.
  std::deque<WireEventPtr> window_ ABSL_GUARDED_BY(mu_);
  uint64_t first_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  size_t window_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Subscribers waiting for the head to pass their position.
  absl::flat_hash_set<HubSubscriber*> waiting_ ABSL_GUARDED_BY(mu_);
  // Watchers waiting for a commit that touches their dyad, by dyad, and
  // the dyad of each (to cancel).
  absl::flat_hash_map<std::string, absl::flat_hash_set<HubSubscriber*>>
      dyad_waiting_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<HubSubscriber*, std::string> waiting_dyad_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<HubSubscriber*> subscribers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // With a wake_interval: subscribers woken by commits since the last
  // wake-up, and when the next one may be.
  std::vector<HubSubscriber*> due_ ABSL_GUARDED_BY(mu_);
  absl::Time next_wake_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Runs PaceWakeups when there is a wake_interval; last member, so that
  // it starts after the others exist.
  std::thread pacer_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SUBSCRIPTIONS_HUB_H_
