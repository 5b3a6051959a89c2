#include "services/subscriptions/hub.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/admission/admission.h"
#include "services/model/projection.h"

namespace annals::services {

SubscriptionHub::SubscriptionHub(const SubscriptionOptions& options)
    : options_(options), executor_(std::max(1, options.executor_threads)) {
  if (options_.wake_interval > absl::ZeroDuration()) {
    pacer_ = std::thread([this] { PaceWakeups(); });
    pthread_setname_np(pacer_.native_handle(), "annals-pacer");
  }
}

SubscriptionHub::~SubscriptionHub() { Drain(); }

std::function<void(const std::vector<const v1::RecordedEvent*>&,
                   const storage::Head&)>
SubscriptionHub::CommitListener() {
  return [this](const std::vector<const v1::RecordedEvent*>& events,
                const storage::Head& head) { OnCommit(events, head); };
}

void SubscriptionHub::Attach(storage::EventLog* log) {
  log_ = log;
  const uint64_t head = log->GetHead().position;
  absl::MutexLock lock(&mu_);
  if (head > head_) {  // commits before Attach, if any, are already in
    window_.clear();
    window_bytes_ = 0;
    first_ = head + 1;
    head_ = head;
  }
}

uint64_t SubscriptionHub::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

// Runs on the log's writer thread: serialize, evict, hand the waiters over.
void SubscriptionHub::OnCommit(
    const std::vector<const v1::RecordedEvent*>& events,
    const storage::Head& head) {
  if (events.empty()) return;
  bool dyads_wanted = false;
  {
    // With nobody subscribed the window is left empty: copying the events
    // would only slow the writer. A subscription that starts later reads
    // them from storage.
    absl::MutexLock lock(&mu_);
    if (subscribers_.empty()) {
      window_.clear();
      window_bytes_ = 0;
      head_ = head.position;
      first_ = head_ + 1;
      return;
    }
    dyads_wanted = !dyad_waiting_.empty();
  }
  // Serialize once, outside the lock: every subscription shares the bytes.
  std::vector<WireEventPtr> wire;
  wire.reserve(events.size());
  for (const v1::RecordedEvent* event : events) {
    wire.push_back(WireEvent::FromEvent(*event));
  }
  // The dyads the group touches, for the relationship watchers; a
  // correction changes the dyads of the event it corrects, which only the
  // projector knows: then every watcher is woken.
  bool all_dyads = !dyads_wanted;
  absl::flat_hash_set<std::string> dyads;
  for (size_t i = 0; dyads_wanted && i < events.size(); ++i) {
    const v1::Event& event = events[i]->event();
    if (event.has_correction()) {
      all_dyads = true;
      break;
    }
    for (std::string& dyad : DyadsOf(event)) dyads.insert(std::move(dyad));
  }

  std::vector<HubSubscriber*> woken;
  {
    absl::MutexLock lock(&mu_);
    if (events.front()->position() != head_ + 1) {
      // Not contiguous with the window (cannot happen once attached): start
      // it afresh.
      window_.clear();
      window_bytes_ = 0;
      first_ = events.front()->position();
    }
    for (WireEventPtr& event : wire) {
      window_bytes_ += event->size();
      window_.push_back(std::move(event));
    }
    head_ = head.position;
    while (window_.size() > std::max<size_t>(1, options_.window_events) ||
           (window_.size() > 1 && window_bytes_ > options_.window_bytes)) {
      window_bytes_ -= window_.front()->size();
      window_.pop_front();
      ++first_;
    }
    woken.reserve(waiting_.size());
    woken.assign(waiting_.begin(), waiting_.end());
    waiting_.clear();
    if (all_dyads) {
      for (const auto& [dyad, waiters] : dyad_waiting_) {
        woken.insert(woken.end(), waiters.begin(), waiters.end());
      }
      dyad_waiting_.clear();
      waiting_dyad_.clear();
    } else {
      for (const std::string& dyad : dyads) {
        auto it = dyad_waiting_.find(dyad);
        if (it == dyad_waiting_.end()) continue;
        for (HubSubscriber* subscriber : it->second) {
          woken.push_back(subscriber);
          waiting_dyad_.erase(subscriber);
        }
        dyad_waiting_.erase(it);
      }
    }
    if (!woken.empty() && !shut_down_ &&
        options_.wake_interval > absl::ZeroDuration()) {
      const absl::Time now = absl::Now();
      if (!due_.empty() || now < next_wake_) {
        due_.insert(due_.end(), woken.begin(), woken.end());
        return;  // the pacer wakes them at next_wake_
      }
      next_wake_ = now + options_.wake_interval;
    }
  }
  if (!woken.empty()) Wake(std::move(woken));
}

void SubscriptionHub::PaceWakeups() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](SubscriptionHub* hub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(hub->mu_) {
          return hub->shut_down_ || !hub->due_.empty();
        },
        this));
    if (!shut_down_) {
      mu_.AwaitWithDeadline(absl::Condition(&shut_down_), next_wake_);
    }
    // After Shutdown too, until nothing is held (no commit adds to due_
    // then): each wait ends with OnCommitted or CancelWait, and CancelWait
    // no longer finds these.
    std::vector<HubSubscriber*> woken;
    woken.swap(due_);
    if (woken.empty()) return;  // shut down
    next_wake_ = absl::Now() + options_.wake_interval;
    mu_.Unlock();
    Wake(std::move(woken));
    mu_.Lock();
  }
}

void SubscriptionHub::Wake(std::vector<HubSubscriber*> woken) {
  // Waking is the subscribers' work, off the writer thread, in chunks so
  // that every executor thread takes part. Submit only fails once Drain
  // runs, after the log was closed: no commit comes then.
  constexpr size_t kWakeChunk = 64;
  wakeups_.fetch_add(woken.size(), std::memory_order_relaxed);
  for (size_t begin = 0; begin < woken.size(); begin += kWakeChunk) {
    const size_t end = std::min(woken.size(), begin + kWakeChunk);
    (void)executor_.Submit(
        [chunk = std::vector<HubSubscriber*>(woken.begin() + begin,
                                             woken.begin() + end)] {
          for (HubSubscriber* subscriber : chunk) subscriber->OnCommitted();
        });
  }
}

absl::Status SubscriptionHub::Register(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("server is shutting down");
  if (subscribers_.size() >= options_.max_subscriptions) {
    return MomentaryRefusal(
        absl::StrCat("the server has ", subscribers_.size(),
                     " subscriptions open, as many as it accepts "
                     "(annalsd --max_subscriptions): retry later"),
        "TOO_MANY_SUBSCRIPTIONS",
        {{"limit", absl::StrCat(options_.max_subscriptions)},
         {"flag", "max_subscriptions"}});
  }
  subscribers_.insert(subscriber);
  return absl::OkStatus();
}

void SubscriptionHub::Unregister(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(subscriber);
  CancelWaitLocked(subscriber);
}

size_t SubscriptionHub::subscriptions() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

SubscriptionHub::Fetched SubscriptionHub::Fetch(uint64_t next,
                                                size_t max) const {
  Fetched fetched;
  absl::MutexLock lock(&mu_);
  fetched.head = head_;
  if (next > head_) {
    fetched.kind = Fetched::Kind::kAtHead;
  } else if (next < first_) {
    fetched.kind = Fetched::Kind::kEvicted;
  } else {
    fetched.kind = Fetched::Kind::kEvents;
    const size_t begin = next - first_;
    const size_t end = std::min(window_.size(), begin + std::max<size_t>(1, max));
    fetched.events.assign(window_.begin() + begin, window_.begin() + end);
  }
  return fetched;
}

bool SubscriptionHub::WaitForCommit(uint64_t position,
                                    HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (head_ > position) return false;
  waiting_.insert(subscriber);
  return true;
}

bool SubscriptionHub::WaitForDyad(absl::string_view dyad, uint64_t position,
                                  HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (head_ > position) return false;
  dyad_waiting_[std::string(dyad)].insert(subscriber);
  waiting_dyad_[subscriber] = std::string(dyad);
  return true;
}

bool SubscriptionHub::CancelWait(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  return CancelWaitLocked(subscriber);
}

bool SubscriptionHub::CancelWaitLocked(HubSubscriber* subscriber) {
  if (waiting_.erase(subscriber) > 0) return true;
  auto it = waiting_dyad_.find(subscriber);
  if (it == waiting_dyad_.end()) return false;
  auto waiters = dyad_waiting_.find(it->second);
  if (waiters != dyad_waiting_.end()) {
    waiters->second.erase(subscriber);
    if (waiters->second.empty()) dyad_waiting_.erase(waiters);
  }
  waiting_dyad_.erase(it);
  return true;
}

bool SubscriptionHub::Submit(absl::AnyInvocable<void() &&> task) {
  return executor_.Submit(std::move(task));
}

void SubscriptionHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  shut_down_ = true;
  // Under the lock, so that no subscriber unregisters (and goes away)
  // meanwhile; Stop only hands the work to the executor (HubSubscriber).
  const absl::Status status = absl::UnavailableError(
      "server is shutting down; resume from the last position received plus "
      "one");
  for (HubSubscriber* subscriber : subscribers_) subscriber->Stop(status);
}

void SubscriptionHub::Drain() {
  Shutdown();
  if (pacer_.joinable()) pacer_.join();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](absl::flat_hash_set<HubSubscriber*>* subscribers) {
          return subscribers->empty();
        },
        &subscribers_));
  }
  executor_.Shutdown();
}

}  // namespace annals::services
