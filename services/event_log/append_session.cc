#include "services/event_log/append_session.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/rpc_status.h"
#include "services/event_log/service.h"
#include "services/rpc/raw_request.h"

namespace annals::services {

namespace {

// `stream` is a dyad's name: two actor codes joined by '-' (the default
// stream of a batch is its primary dyad).
bool IsDyadStream(absl::string_view stream) {
  if (stream.empty()) return true;
  const size_t dash = stream.find('-');
  return dash != absl::string_view::npos &&
         IsKnownActor(stream.substr(0, dash)) &&
         IsKnownActor(stream.substr(dash + 1));
}

}  // namespace

void QueueAppend(storage::EventLog* log, const Limits& limits,
                 v1::AppendRequest request, std::string principal,
                 AppendObserver* observer,
                 storage::EventLog::AppendCallback done) {
  if (observer != nullptr) {
    done = [observer, dyad = IsDyadStream(request.stream()),
            events = static_cast<size_t>(request.events_size()),
            start = absl::Now(), done = std::move(done)](
               absl::StatusOr<storage::AppendResult> result) mutable {
      observer->Appended(dyad, result.status().code(), events,
                         result.ok() && result->already_recorded,
                         absl::Now() - start);
      std::move(done)(std::move(result));
    };
  }
  absl::StatusOr<storage::AppendBatch> batch =
      ToAppendBatch(std::move(request), limits);
  if (!batch.ok()) {
    std::move(done)(batch.status());
    return;
  }
  batch->principal = std::move(principal);
  log->AppendAsync(*std::move(batch), std::move(done));
}

void ToAppendResponse(const storage::AppendResult& result,
                      v1::AppendResponse* response) {
  response->set_stream(result.stream);
  response->mutable_positions()->Add(result.positions.begin(),
                                     result.positions.end());
  response->set_stream_version(result.stream_version);
  response->set_already_recorded(result.already_recorded);
  response->set_head(result.head);
}

namespace {

// The error of an acknowledgement: the status unary Append would end with,
// as the google.rpc.Status of its grpc-status-details-bin trailer.
void SetError(const absl::Status& status, v1::AppendAck* ack) {
  const grpc::Status wire = rpc::ToGrpcStatus(status);
  google::rpc::Status* error = ack->mutable_error();
  if (wire.error_details().empty() ||
      !error->ParseFromString(wire.error_details())) {
    error->Clear();
  }
  error->set_code(static_cast<int>(wire.error_code()));
  error->set_message(wire.error_message());
}

}  // namespace

class AppendSessions::Reactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Reactor(AppendSessions* sessions, std::string principal)
      : sessions_(sessions), principal_(std::move(principal)) {}

  // Registers and reads the first request, holding `stream` until done;
  // finishes at once when the stream was not admitted or the sessions are
  // shut down.
  void Start(absl::StatusOr<Admission::Ticket> stream) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Status refused = stream.status();
    if (refused.ok()) {
      stream_ = *std::move(stream);
      if (!sessions_->Register(this)) {
        refused = absl::UnavailableError("server is shutting down");
      }
    }
    if (!refused.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      Finish(rpc::ToGrpcStatus(refused));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      reading_ = true;
    }
    StartRead(&read_);
  }

  // Shutdown: stop reading, answer what was read, end with UNAVAILABLE.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      draining_ = true;
    }
    Pump();
  }

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- gRPC reactions ---

  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    if (!ok) {  // the client half-closed, or the stream is gone
      {
        absl::MutexLock lock(&mu_);
        reading_ = false;
        reads_done_ = true;
      }
      Pump();
      return;
    }
    const size_t bytes = read_.Length();
    const absl::Status parsed = ParseRawMessage(read_, &request_);
    read_.Clear();
    uint64_t seq = 0;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) {  // finishing: the request is not accepted
        reading_ = false;
        return;
      }
      if (!parsed.ok()) {
        // Nothing after it is read: answer what was, then end with it.
        reading_ = false;
        reads_done_ = true;
        end_status_ = parsed;
      } else {
        seq = first_seq_ + slots_.size();
        Slot& slot = slots_.emplace_back();
        slot.bytes = bytes;
        slot.ack.set_correlation_id(request_.correlation_id());
        queued_bytes_ += bytes;
      }
    }
    if (!parsed.ok()) {
      Pump();
      return;
    }
    absl::Status fields = CheckRequestFields(request_);
    if (!fields.ok()) {
      Complete(seq, fields);
    } else if (!request_.has_append()) {
      Complete(seq, rpc::InvalidArgument({{"append", "required"}}));
    } else if (absl::StatusOr<Admission::Ticket> admitted =
                   sessions_->admission_->AdmitRequest(principal_, bytes);
               !admitted.ok()) {
      Complete(seq, admitted.status());
    } else {
      Ref();  // the append's
      // The request's bytes stay admitted until its batch is answered:
      // given back before the answer, so that a client answered finds the
      // room.
      QueueAppend(sessions_->log_, sessions_->limits_,
                  std::move(*request_.mutable_append()), principal_,
                  sessions_->options_.observer,
                  [this, seq, ticket = *std::move(admitted)](
                      absl::StatusOr<storage::AppendResult> result) mutable {
                    ticket = Admission::Ticket();
                    Complete(seq, result);
                    Unref();
                  });
    }
    bool read_next = false;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || draining_ || WindowFullLocked()) {
        reading_ = false;
      } else {
        read_next = true;
      }
    }
    if (read_next) StartRead(&read_);
  }

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    bool read_next = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      written_requests_ = 0;
      written_bytes_ = 0;
      out_.Clear();
      if (!ok) {
        broken_ = true;
      } else if (!reading_ && !reads_done_ && !draining_ && !finished_ &&
                 !WindowFullLocked()) {
        reading_ = true;
        read_next = true;
      }
    }
    if (read_next) StartRead(&read_);
    Pump();
  }

  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      broken_ = true;
    }
    Pump();
  }

  void OnDone() override {
    sessions_->Unregister(this);
    stream_ = Admission::Ticket();
    Unref();  // gRPC's
  }

 private:
  struct Slot {
    bool done = false;
    size_t bytes = 0;  // of the request
    v1::AppendAck ack;
  };

  ~Reactor() override = default;

  bool WindowFullLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const size_t requests = slots_.size() + written_requests_;
    const size_t bytes = queued_bytes_ + written_bytes_;
    return requests >= sessions_->options_.window_requests ||
           bytes >= sessions_->options_.window_bytes;
  }

  // The log's (or validation's) answer to the request in slot `seq`.
  void Complete(uint64_t seq,
                const absl::StatusOr<storage::AppendResult>& result)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || seq < first_seq_) return;  // ended meanwhile
      Slot& slot = slots_[seq - first_seq_];
      if (result.ok()) {
        ToAppendResponse(*result, slot.ack.mutable_appended());
      } else {
        SetError(result.status(), &slot.ack);
      }
      slot.done = true;
    }
    Pump();
  }

  // Moves things along: writes the answered front of the queue when no
  // write is in flight; finishes when the session is over. Any thread;
  // never blocks.
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    bool write = false;
    bool finish = false;
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || writing_) return;
      if (broken_) {
        // Nothing more can be sent; the appends queued still complete.
        finish = true;
        status = absl::CancelledError("the session was cancelled or broke");
      } else if (!slots_.empty() && slots_.front().done) {
        const size_t max_acks =
            std::max<size_t>(1, sessions_->options_.max_acks_per_response);
        while (!slots_.empty() && slots_.front().done &&
               static_cast<size_t>(response_.acks_size()) < max_acks) {
          Slot& slot = slots_.front();
          response_.add_acks()->Swap(&slot.ack);
          written_requests_ += 1;
          written_bytes_ += slot.bytes;
          queued_bytes_ -= slot.bytes;
          slots_.pop_front();
          ++first_seq_;
        }
        bool own_buffer = false;
        grpc::SerializationTraits<v1::AppendSessionResponse>::Serialize(
            response_, &out_, &own_buffer);
        response_.Clear();
        writing_ = true;
        write = true;
      } else if (slots_.empty() && reads_done_) {
        finish = true;  // half-closed or refused, and all answered
        status = end_status_;
      } else if (slots_.empty() && draining_) {
        finish = true;
        status = absl::UnavailableError(
            "server is shutting down; every request read was answered");
      }
      if (finish) {
        finished_ = true;
        slots_.clear();
      }
    }
    if (write) StartWrite(&out_);
    if (finish) Finish(rpc::ToGrpcStatus(status));
  }

  // Constant after construction.
  AppendSessions* const sessions_;
  const std::string principal_;
  // The session's place among its connection's streams: set by Start,
  // given back by OnDone.
  Admission::Ticket stream_;

  // The request being read, and parsed: used by the read side only (one
  // read at a time).
  grpc::ByteBuffer read_;
  v1::AppendSessionRequest request_;

  std::atomic<int> refs_{1};  // gRPC's, plus one per queued append

  absl::Mutex mu_;
  // Requests read and not yet written back, in order; the front is
  // sequence number first_seq_.
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t first_seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of the requests in slots_
  // The response being built, its bytes being written, and the requests
  // they answer.
  v1::AppendSessionResponse response_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer out_ ABSL_GUARDED_BY(mu_);
  size_t written_requests_ ABSL_GUARDED_BY(mu_) = 0;
  size_t written_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;     // a read is in flight
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // no more requests
  // How the session ends once reads are done and all is answered: OK after
  // a half-close, INVALID_ARGUMENT after a request that did not parse.
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;    // service shutting down
  bool broken_ ABSL_GUARDED_BY(mu_) = false;      // cancelled or write failed
  bool finished_ ABSL_GUARDED_BY(mu_) = false;    // Finish called or due
};

AppendSessions::AppendSessions(storage::EventLog* log, const Limits& limits,
                               const AppendSessionOptions& options,
                               const auth::CallAccess* access,
                               Admission* admission)
    : log_(log),
      limits_(limits),
      options_(options),
      access_(access),
      admission_(admission) {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
AppendSessions::Open(grpc::CallbackServerContext* context) {
  absl::StatusOr<auth::Principal> principal =
      access_->Check(*context, "/annals.v1.EventLog/AppendSession");
  auto* reactor = new Reactor(this, principal.ok() ? principal->name : "");
  reactor->Start(principal.ok()
                     ? admission_->OpenStream(access_->Connection(*context),
                                              principal->name)
                     : principal.status());
  return reactor;
}

bool AppendSessions::Register(Reactor* reactor) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return false;
  open_.insert(reactor);
  return true;
}

void AppendSessions::Unregister(Reactor* reactor) {
  absl::MutexLock lock(&mu_);
  open_.erase(reactor);
}

size_t AppendSessions::open_sessions() const {
  absl::MutexLock lock(&mu_);
  return open_.size();
}

void AppendSessions::Shutdown() {
  std::vector<Reactor*> open;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    for (Reactor* reactor : open_) {
      reactor->Ref();  // registered: gRPC's reference is still held
      open.push_back(reactor);
    }
  }
  for (Reactor* reactor : open) {
    reactor->Drain();
    reactor->Unref();
  }
}

}  // namespace annals::services
