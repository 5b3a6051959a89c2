#include "services/subscription_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace annals::services {

SubscriptionHub::SubscriptionHub(const SubscriptionOptions& options)
    : options_(options), executor_(std::max(1, options.executor_threads)) {}

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
    event_bytes_.clear();
    window_bytes_ = 0;
    first_ = head + 1;
    head_ = head;
  }
}

uint64_t SubscriptionHub::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

// Runs on the log's writer thread: copy, evict, hand the waiters over.
void SubscriptionHub::OnCommit(
    const std::vector<const v1::RecordedEvent*>& events,
    const storage::Head& head) {
  if (events.empty()) return;
  {
    // With nobody subscribed the window is left empty: copying the events
    // would only slow the writer. A subscription that starts later reads
    // them from storage.
    absl::MutexLock lock(&mu_);
    if (subscribers_.empty()) {
      window_.clear();
      event_bytes_.clear();
      window_bytes_ = 0;
      head_ = head.position;
      first_ = head_ + 1;
      return;
    }
  }
  // Build the shared messages outside the lock.
  std::vector<SharedMessage> messages;
  std::vector<size_t> sizes;
  messages.reserve(events.size());
  sizes.reserve(events.size());
  for (const v1::RecordedEvent* event : events) {
    auto message = std::make_shared<v1::SubscribeResponse>();
    *message->mutable_event() = *event;
    sizes.push_back(message->ByteSizeLong());
    messages.push_back(std::move(message));
  }

  absl::flat_hash_set<HubSubscriber*> woken;
  {
    absl::MutexLock lock(&mu_);
    if (events.front()->position() != head_ + 1) {
      // Not contiguous with the window (cannot happen once attached): start
      // it afresh.
      window_.clear();
      event_bytes_.clear();
      window_bytes_ = 0;
      first_ = events.front()->position();
    }
    for (size_t i = 0; i < messages.size(); ++i) {
      window_.push_back(std::move(messages[i]));
      event_bytes_.push_back(sizes[i]);
      window_bytes_ += sizes[i];
    }
    head_ = head.position;
    while (window_.size() > std::max<size_t>(1, options_.window_events) ||
           (window_.size() > 1 && window_bytes_ > options_.window_bytes)) {
      window_bytes_ -= event_bytes_.front();
      window_.pop_front();
      event_bytes_.pop_front();
      ++first_;
    }
    woken.swap(waiting_);
  }
  if (woken.empty()) return;
  // Waking is the subscribers' work, off the writer thread, in chunks so
  // that every executor thread takes part. Submit only fails once Drain
  // runs, after the log was closed: no commit comes then.
  constexpr size_t kWakeChunk = 64;
  std::vector<HubSubscriber*> chunk;
  chunk.reserve(std::min(kWakeChunk, woken.size()));
  auto submit = [this, &chunk] {
    (void)executor_.Submit([chunk = std::move(chunk)] {
      for (HubSubscriber* subscriber : chunk) subscriber->OnCommitted();
    });
    chunk.clear();
  };
  for (HubSubscriber* subscriber : woken) {
    chunk.push_back(subscriber);
    if (chunk.size() == kWakeChunk) submit();
  }
  if (!chunk.empty()) submit();
}

absl::Status SubscriptionHub::Register(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("server is shutting down");
  if (subscribers_.size() >= options_.max_subscriptions) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", subscribers_.size(),
                     " subscriptions open, as many as it accepts"));
  }
  subscribers_.insert(subscriber);
  return absl::OkStatus();
}

void SubscriptionHub::Unregister(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(subscriber);
  waiting_.erase(subscriber);
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

bool SubscriptionHub::CancelWait(HubSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  return waiting_.erase(subscriber) > 0;
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
