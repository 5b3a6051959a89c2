#include "services/subscriptions/service.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "annals/v1/relationship.pb.h"
#include "proto/rpc_status.h"
#include "services/rpc/raw_request.h"
#include "services/relationships/projector.h"
#include "services/subscriptions/filter.h"
#include "services/subscriptions/wire.h"
#include "storage/projector.h"

namespace annals::services {
namespace {

// A call refused before it started: finishes at once with `status`.
class RefusedReactor final
    : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit RefusedReactor(const absl::Status& status) {
    Finish(rpc::ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

// The reference count shared by the reactors below: one reference for
// gRPC (released in OnDone), one per task queued on the executor and one
// per wait registered with the hub. The last release deletes.
class Counted {
 protected:
  virtual ~Counted() = default;
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  std::atomic<int> refs_{1};
};

// What both reactors below share: registration with the hub, the
// reference count, and the ways a call ends (the client cancels, the
// stream breaks, the hub shuts down, an error). Subclasses start their
// work in Begin() and may drop what they hold in OnFinishLocked().
template <typename Response>
class HubReactor : public grpc::ServerWriteReactor<Response>,
                   public HubSubscriber,
                   protected Counted {
 public:
  // Holds `stream`, the call's place among its connection's streams,
  // until the call is done.
  HubReactor(SubscriptionHub* hub, Admission::Ticket stream)
      : hub_(hub), stream_(std::move(stream)) {}

  // Registers with the hub and begins; finishes at once when the hub
  // refuses.
  void Start() {
    absl::Status registered = hub_->Register(this);
    if (!registered.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      this->Finish(rpc::ToGrpcStatus(registered));
      return;
    }
    Begin();
  }

  void OnCancel() override {
    FinishWith(absl::CancelledError("cancelled by the client"));
  }

  void OnDone() override {
    hub_->Unregister(this);
    stream_ = Admission::Ticket();
    Unref();
  }

  void Stop(const absl::Status& status) override {
    Ref();
    if (!hub_->Submit([this, status] {
          FinishWith(status);
          Unref();
        })) {
      Unref();  // never last: gRPC's reference is held while registered
    }
  }

 protected:
  virtual void Begin() = 0;
  // Called once, with mu_ held, when the call is to finish.
  virtual void OnFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {}

  // Ends the call with `status` (once; later calls do nothing). While a
  // write is being started (WriteDecidedLocked) it leaves Finish to
  // StartWriteNow: a StartWrite after Finish could reach a stream gRPC has
  // already freed.
  void FinishWith(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
      OnFinishLocked();
      if (waiting_ && hub_->CancelWait(this)) {
        waiting_ = false;
        Unref();  // the wait's; never last: gRPC's reference is held
      }
      if (starting_write_) {
        deferred_finish_ = status;
        return;
      }
    }
    this->Finish(rpc::ToGrpcStatus(status));
  }

  // The caller decided, with mu_ held and finished_ false, to write; it
  // calls StartWriteNow next, without mu_.
  void WriteDecidedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    starting_write_ = true;
  }
  // Starts the write decided, then finishes if FinishWith came meanwhile.
  void StartWriteNow(const Response* message) ABSL_LOCKS_EXCLUDED(mu_) {
    this->StartWrite(message);
    absl::Status finish;
    {
      absl::MutexLock lock(&mu_);
      starting_write_ = false;
      if (!deferred_finish_.has_value()) return;
      finish = *std::move(deferred_finish_);
      deferred_finish_.reset();
    }
    this->Finish(rpc::ToGrpcStatus(finish));
  }

  SubscriptionHub* const hub_;
  // Touched only by the constructor and OnDone.
  Admission::Ticket stream_;
  absl::Mutex mu_;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;   // a hub wait is registered
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called or due
  // Between WriteDecidedLocked and the end of StartWriteNow.
  bool starting_write_ ABSL_GUARDED_BY(mu_) = false;
  // What FinishWith left to StartWriteNow.
  absl::optional<absl::Status> deferred_finish_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Subscribe

class SubscribeReactor final : public HubReactor<grpc::ByteBuffer> {
 public:
  // Delivers positions from `next` on that match `filter`, up to
  // `max_batch` (>= 1) events per message.
  SubscribeReactor(SubscriptionHub* hub, Admission::Ticket stream,
                   EventFilter filter, uint64_t next, size_t max_batch)
      : HubReactor(hub, std::move(stream)),
        filter_(std::move(filter)),
        page_(std::max<size_t>(1, hub->options().read_page_events)),
        max_batch_(max_batch),
        next_(next),
        reported_(next - 1),
        reported_at_(absl::Now()) {}

  // --- gRPC reactions ---

  void OnWriteDone(bool ok) override {
    out_.Clear();  // still ours: writing_ is set
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (!ok) {
      FinishWith(absl::CancelledError("the stream broke"));
      return;
    }
    Pump();
  }

  // --- HubSubscriber ---

  void OnCommitted() override {
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
    }
    Pump();
    Unref();  // the wait's
  }

 private:
  // A message waiting to be written: an event, or a notice (checkpoint,
  // caught up, fell behind) when `event` is null.
  struct Item {
    WireEventPtr event;
    std::unique_ptr<v1::SubscribeResponse> notice;
  };

  void Begin() override { Pump(); }
  void OnFinishLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    pending_.clear();
  }

  using Fetched = SubscriptionHub::Fetched;

  // Moves things along: fetches more when little is pending, and starts
  // the next write when none is in flight. Any thread; never blocks.
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<WireEventPtr> events;
    std::unique_ptr<v1::SubscribeResponse> notice;
    bool read = false;
    absl::Status error;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!reading_ && !waiting_ && pending_.size() <= page_ / 2) {
        read = FillLocked();
        error = finish_error_;
      }
      if (error.ok() && !writing_ && !pending_.empty()) {
        TakeMessageLocked(&events, &notice);
        writing_ = true;
        WriteDecidedLocked();
      }
    }
    if (!error.ok()) {
      FinishWith(error);
      return;
    }
    if (read) SubmitRead();
    // out_ is ours until OnWriteDone: writing_ keeps other threads out.
    if (notice != nullptr) {
      grpc::Slice bytes(notice->SerializeAsString());
      out_ = grpc::ByteBuffer(&bytes, 1);
      StartWriteNow(&out_);
    } else if (!events.empty()) {
      if (auto* observer = hub_->options().observer) {
        const uint64_t head = hub_->head();
        const uint64_t last = events.back()->position();
        observer->Delivered(events.size(), head > last ? head - last : 0);
      }
      out_ = max_batch_ == 1 ? EventMessage(*events.front())
                             : BatchMessage(events);
      StartWriteNow(&out_);
    }
  }

  // The next message from the front of pending_: a notice, or the events
  // up to the next notice, at most max_batch_ of them and about
  // kMaxLiveBatchBytes when live, else kMaxBatchBytes.
  void TakeMessageLocked(std::vector<WireEventPtr>* events,
                         std::unique_ptr<v1::SubscribeResponse>* notice)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending_.front().event == nullptr) {
      *notice = std::move(pending_.front().notice);
      pending_.pop_front();
      return;
    }
    const size_t max_bytes = live_ ? kMaxLiveBatchBytes : kMaxBatchBytes;
    size_t bytes = 0;
    while (!pending_.empty() && pending_.front().event != nullptr &&
           events->size() < max_batch_) {
      const size_t size = pending_.front().event->size();
      if (!events->empty() && bytes + size > max_bytes) break;
      bytes += size;
      events->push_back(std::move(pending_.front().event));
      pending_.pop_front();
    }
  }

  // Takes what the window has from next_ on; at the head says CaughtUp or
  // waits for a commit. Returns true when it has to read storage instead
  // (reading_ is then set and the caller submits the read).
  bool FillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (;;) {
      Fetched fetched = hub_->Fetch(next_, page_);
      switch (fetched.kind) {
        case Fetched::Kind::kEvents:
          if (!AcceptLocked(fetched.events)) return false;
          if (!pending_.empty()) return false;
          continue;  // the filter left them all out: on
        case Fetched::Kind::kEvicted:
          if (live_) {
            live_ = false;
            if (auto* observer = hub_->options().observer) observer->FellBehind();
            auto message = std::make_unique<v1::SubscribeResponse>();
            message->mutable_fell_behind()->set_position(next_ - 1);
            message->mutable_fell_behind()->set_head(fetched.head);
            PushNoticeLocked(std::move(message), next_ - 1);
          }
          reading_ = true;
          return true;
        case Fetched::Kind::kAtHead:
          if (!live_) {
            live_ = true;
            auto message = std::make_unique<v1::SubscribeResponse>();
            message->mutable_caught_up()->set_position(next_ - 1);
            PushNoticeLocked(std::move(message), next_ - 1);
            return false;
          }
          if (!pending_.empty()) return false;  // wait once they are out
          Ref();  // the wait's
          if (hub_->WaitForCommit(next_ - 1, this)) {
            waiting_ = true;
            return false;
          }
          Unref();  // never last: gRPC's reference is held until finished
          continue;  // committed meanwhile
      }
    }
  }

  // Queues the events of `events` that match, which must start at next_;
  // advances next_ past them and adds a checkpoint when one is due. False
  // when they do not start at next_ or do not parse (then finishing).
  bool AcceptLocked(std::vector<WireEventPtr>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (WireEventPtr& event : events) {
      const uint64_t position = event->position();
      if (position != next_) {
        finish_error_ = absl::InternalError(absl::StrCat(
            "subscription expected position ", next_, ", got ", position));
        return false;
      }
      bool matches = filter_.all();
      if (!matches) {
        const v1::RecordedEvent* parsed = event->parsed();
        if (parsed == nullptr) {
          finish_error_ = absl::InternalError(absl::StrCat(
              "the stored bytes of position ", position,
              " are not its RecordedEvent"));
          return false;
        }
        matches = filter_.Matches(*parsed);
      }
      next_ = position + 1;
      if (matches) {
        pending_.push_back({std::move(event), nullptr});
        Reported(position);
      }
    }
    const uint64_t passed = next_ - 1;
    if (passed > reported_ &&
        (passed - reported_ >= hub_->options().checkpoint_positions ||
         absl::Now() - reported_at_ >= hub_->options().checkpoint_interval)) {
      auto checkpoint = std::make_unique<v1::SubscribeResponse>();
      checkpoint->mutable_checkpoint()->set_position(passed);
      PushNoticeLocked(std::move(checkpoint), passed);
    }
    return true;
  }

  void PushNoticeLocked(std::unique_ptr<v1::SubscribeResponse> message,
                        uint64_t position) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    pending_.push_back({nullptr, std::move(message)});
    Reported(position);
  }

  void Reported(uint64_t position) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reported_ = position;
    reported_at_ = absl::Now();
  }

  // Reads the next page of storage on the executor.
  void SubmitRead() ABSL_LOCKS_EXCLUDED(mu_) {
    Ref();
    if (hub_->Submit([this] {
          ReadStorage();
          Unref();
        })) {
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
    }
    FinishWith(absl::UnavailableError("server is shutting down"));
    Unref();
  }

  // Up to a page of events from `from` on, as stored (no parsing); through
  // ReadAll for a log that cannot read its stored bytes.
  absl::StatusOr<std::vector<WireEventPtr>> ReadPage(uint64_t from) {
    std::vector<WireEventPtr> events;
    absl::StatusOr<std::vector<storage::StoredEvent>> stored =
        hub_->log()->ReadStored(from, page_);
    if (stored.ok()) {
      events.reserve(stored->size());
      for (storage::StoredEvent& event : *stored) {
        events.push_back(WireEvent::FromStored(
            event.position, std::move(event.stored), event.chain_hash));
      }
      return events;
    }
    if (!absl::IsUnimplemented(stored.status())) return stored.status();
    absl::StatusOr<storage::ReadPage> page =
        hub_->log()->ReadAll(from, storage::Direction::kForward, page_);
    if (!page.ok()) return page.status();
    events.reserve(page->events.size());
    for (const v1::RecordedEvent& event : page->events) {
      events.push_back(WireEvent::FromEvent(event));
    }
    return events;
  }

  // On the executor: one page from next_, then on.
  void ReadStorage() ABSL_LOCKS_EXCLUDED(mu_) {
    uint64_t from = 0;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) {
        reading_ = false;
        return;
      }
      from = next_;
    }
    absl::StatusOr<std::vector<WireEventPtr>> events = ReadPage(from);
    absl::Status error;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (finished_) return;
      if (!events.ok()) {
        error = absl::UnavailableError(absl::StrCat(
            "reading the log from position ", from,
            " failed: ", events.status().ToString()));
      } else if (events->empty()) {
        error = absl::InternalError(absl::StrCat(
            "the log has no position ", from, " (head ", hub_->head(), ")"));
      } else if (!AcceptLocked(*events)) {
        error = finish_error_;
      }
    }
    if (!error.ok()) {
      FinishWith(error);
      return;
    }
    Pump();
  }

  // --- Constant after construction ---
  const EventFilter filter_;
  const size_t page_;       // events per fetch or storage read
  const size_t max_batch_;  // events per message, >= 1

  // The next position to consider: every earlier one is in pending_,
  // written, or left out by the filter.
  uint64_t next_ ABSL_GUARDED_BY(mu_);
  // Messages to write, in order.
  std::deque<Item> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // The message being written: used only by the thread that set writing_,
  // until OnWriteDone.
  grpc::ByteBuffer out_;  // a serialized SubscribeResponse
  bool reading_ ABSL_GUARDED_BY(mu_) = false;  // a storage read is queued
  // Said CaughtUp, not FellBehind since.
  bool live_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status finish_error_ ABSL_GUARDED_BY(mu_);
  // The position of the last message queued, and when: for checkpoints.
  uint64_t reported_ ABSL_GUARDED_BY(mu_);
  absl::Time reported_at_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// WatchRelationship

class WatchReactor final : public HubReactor<grpc::ByteBuffer> {
 public:
  WatchReactor(SubscriptionHub* hub, Admission::Ticket stream,
               std::string dyad)
      : HubReactor(hub, std::move(stream)), dyad_(std::move(dyad)) {}

  void OnWriteDone(bool ok) override {
    out_.Clear();  // only the stored bytes are kept, to compare
    if (!ok) {
      FinishWith(absl::CancelledError("the stream broke"));
      return;
    }
    Wait();
  }

  void OnCommitted() override {
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
    }
    SubmitRead();
    Unref();  // the wait's
  }

 private:
  // Reads the state now.
  void Begin() override { SubmitRead(); }

  // One cycle: wait for a commit after seen_ -> read -> write if changed.
  void Wait() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      Ref();  // the wait's
      if (hub_->WaitForDyad(dyad_, seen_, this)) {
        waiting_ = true;
        return;
      }
    }
    Unref();  // committed meanwhile: read now; never last
    SubmitRead();
  }

  void SubmitRead() ABSL_LOCKS_EXCLUDED(mu_) {
    Ref();
    if (!hub_->Submit([this] {
          Read();
          Unref();
        })) {
      FinishWith(absl::UnavailableError("server is shutting down"));
      Unref();
    }
  }

  // On the executor: the state as of at least the hub's head.
  void Read() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
    }
    // The head first: the state read afterwards includes it (the hub hears
    // of a commit only once it is readable).
    const uint64_t head = hub_->head();
    absl::StatusOr<std::string> stored =
        ReadStoredRelationship(*hub_->log(), dyad_);
    if (!stored.ok() && !absl::IsNotFound(stored.status())) {
      FinishWith(absl::UnavailableError(absl::StrCat(
          "reading the state of ", dyad_, " failed: ",
          stored.status().ToString())));
      return;
    }
    const std::string bytes = stored.ok() ? *stored : std::string();
    absl::Status error;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      seen_ = head;
      if (!sent_ || bytes != sent_bytes_) {
        absl::StatusOr<v1::RelationshipState> state =
            bytes.empty() ? v1::RelationshipState()
                          : ParseStoredRelationship(bytes, dyad_);
        if (!state.ok()) {
          error = state.status();
        } else {
          v1::WatchRelationshipResponse response;
          *response.mutable_state() = *std::move(state);
          response.mutable_state()->set_dyad(dyad_);
          response.set_position(head);
          bool own_buffer = false;
          grpc::SerializationTraits<v1::WatchRelationshipResponse>::Serialize(
              response, &out_, &own_buffer);
          sent_ = true;
          sent_bytes_ = bytes;
          write = true;
          WriteDecidedLocked();
        }
      }
    }
    if (!error.ok()) {
      FinishWith(error);
    } else if (write) {
      StartWriteNow(&out_);
    } else {
      Wait();
    }
  }

  // --- Constant after construction ---
  const std::string dyad_;

  // One of wait, read, write runs at a time; these are used by the one
  // that runs.
  uint64_t seen_ = 0;  // the head the last read included
  bool sent_ = false;
  std::string sent_bytes_;
  // A serialized WatchRelationshipResponse being written, else empty.
  grpc::ByteBuffer out_;
};

}  // namespace

SubscriptionService::SubscriptionService(SubscriptionHub* hub,
                                         const auth::CallAccess* access,
                                         Admission* admission)
    : hub_(hub), access_(access), admission_(admission) {}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SubscriptionService::Subscribe(
    grpc::CallbackServerContext* context,
    const grpc::ByteBuffer* request_bytes) {
  absl::StatusOr<auth::Principal> principal =
      access_->Check(*context, "/annals.v1.Subscriptions/Subscribe");
  if (!principal.ok()) return new RefusedReactor(principal.status());
  v1::SubscribeRequest parsed;
  if (absl::Status status = ParseRawRequest(*request_bytes, &parsed);
      !status.ok()) {
    return new RefusedReactor(status);
  }
  const v1::SubscribeRequest* request = &parsed;
  std::vector<rpc::FieldViolation> violations;
  EventFilter filter =
      EventFilter::Parse(request->filter(), "filter", &violations);
  if (request->start_case() == v1::SubscribeRequest::kFromPosition &&
      request->from_position() == 0) {
    violations.push_back(
        {"from_position",
         "must be at least 1 (set from_start for the whole log)"});
  }
  if (!violations.empty()) {
    return new RefusedReactor(rpc::InvalidArgument(violations));
  }

  uint64_t next = 0;
  switch (request->start_case()) {
    case v1::SubscribeRequest::kFromPosition: {
      // The storage head too: a client may have read past the hub's head.
      const uint64_t head =
          std::max(hub_->head(), hub_->log()->GetHead().position);
      if (request->from_position() > head + 1) {
        return new RefusedReactor(absl::OutOfRangeError(absl::StrCat(
            "from_position ", request->from_position(),
            " is beyond the log's head ", head, " plus one")));
      }
      next = request->from_position();
      break;
    }
    case v1::SubscribeRequest::kFromStart:
      next = 1;
      break;
    case v1::SubscribeRequest::kFromNow:
    case v1::SubscribeRequest::START_NOT_SET:
      next = hub_->head() + 1;
      break;
  }
  const size_t max_batch = std::clamp<size_t>(
      request->max_events_per_message(), 1, kMaxEventsPerMessage);
  absl::StatusOr<Admission::Ticket> stream =
      admission_->OpenStream(access_->Connection(*context), principal->name);
  if (!stream.ok()) return new RefusedReactor(stream.status());
  auto* reactor = new SubscribeReactor(hub_, *std::move(stream),
                                       std::move(filter), next, max_batch);
  reactor->Start();
  return reactor;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>*
SubscriptionService::WatchRelationship(
    grpc::CallbackServerContext* context,
    const grpc::ByteBuffer* request_bytes) {
  absl::StatusOr<auth::Principal> principal =
      access_->Check(*context, "/annals.v1.Subscriptions/WatchRelationship");
  if (!principal.ok()) return new RefusedReactor(principal.status());
  v1::WatchRelationshipRequest request;
  if (absl::Status status = ParseRawRequest(*request_bytes, &request);
      !status.ok()) {
    return new RefusedReactor(status);
  }
  std::string problem = "required";
  const std::string dyad =
      request.dyad().empty() ? "" : ParseDyad(request.dyad(), &problem);
  if (dyad.empty()) {
    return new RefusedReactor(rpc::InvalidArgument({{"dyad", problem}}));
  }
  absl::StatusOr<Admission::Ticket> stream =
      admission_->OpenStream(access_->Connection(*context), principal->name);
  if (!stream.ok()) return new RefusedReactor(stream.status());
  auto* reactor = new WatchReactor(hub_, *std::move(stream), dyad);
  reactor->Start();
  return reactor;
}

}  // namespace annals::services
