#include "clients/cpp/client.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "clients/cpp/credentials.h"
#include "proto/rpc_status.h"

namespace annals {
namespace {

// Calls `method` on `stub` and returns its response or the converted status.
template <typename Response, typename Stub, typename Request, typename Method>
absl::StatusOr<Response> Call(Stub* stub, Method method,
                              grpc::ClientContext* context,
                              const Request& request) {
  Response response;
  grpc::Status status = (stub->*method)(context, request, &response);
  if (!status.ok()) return rpc::FromGrpcStatus(status);
  return response;
}

// Keepalive for long-lived streams (see ClientOptions and README.md).
grpc::ChannelArguments ChannelArgs(const ClientOptions& options) {
  grpc::ChannelArguments args;
  if (options.keepalive_time > absl::ZeroDuration()) {
    auto millis = [](absl::Duration d) {
      return static_cast<int>(absl::ToInt64Milliseconds(d));
    };
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, millis(options.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                millis(options.keepalive_timeout));
    // A quiet subscription sends no data; keep pinging anyway.
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  }
  return args;
}

// Reads a server stream into `on_message` until it returns false or the
// stream ends.
template <typename Response, typename Reader>
absl::Status Follow(grpc::ClientContext* context, Reader* reader,
                    const std::function<bool(const Response&)>& on_message) {
  Response message;
  bool stopped = false;
  while (reader->Read(&message)) {
    if (!on_message(message)) {
      stopped = true;
      context->TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (stopped) return absl::OkStatus();
  if (status.ok()) {
    // Subscriptions never end by themselves with OK.
    return absl::UnavailableError("the server ended the stream");
  }
  return rpc::FromGrpcStatus(status);
}

// The callback-API reactor behind AppendSession: one write in flight (the
// rest queued here), one read in flight, a hold on the call while user
// threads may still start writes.
class AppendSessionImpl final
    : public AppendSession,
      public grpc::ClientBidiReactor<v1::AppendSessionRequest,
                                     v1::AppendSessionResponse> {
 public:
  AppendSessionImpl(v1::EventLog::Stub* stub, size_t window)
      : window_(std::max<size_t>(1, window)) {
    stub->async()->AppendSession(&context_, this);
    StartRead(&response_);
    AddHold();  // released once no user thread will start a write
    StartCall();
  }

  ~AppendSessionImpl() override {
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      cancel = !failed_;
    }
    if (cancel) Cancel();
    ended_.WaitForNotification();
  }

  void Append(v1::AppendRequest request, Done done) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Status refused;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AppendSessionImpl::HasRoomLocked));
      if (failed_) {
        refused = status_;  // every earlier Append is answered
      } else if (closing_) {
        // Answered after the earlier ones, when the session ends.
        awaiting_.push_back({0, std::move(done),
                             absl::FailedPreconditionError(
                                 "Append after Finish or Cancel of the "
                                 "session")});
        return;
      } else if (broken_) {
        // The stream is ending: answered with its status when it has.
        awaiting_.push_back({0, std::move(done), absl::OkStatus()});
        return;
      } else {
        const uint64_t id = next_id_++;
        awaiting_.push_back({id, std::move(done), absl::OkStatus()});
        v1::AppendSessionRequest message;
        message.set_correlation_id(id);
        message.mutable_append()->Swap(&request);
        if (writing_) {
          queued_.push_back(std::move(message));
        } else {
          writing_ = true;
          in_flight_ = std::move(message);
          write = true;
        }
      }
    }
    if (!refused.ok()) {
      // In call order: after OnDone has answered every earlier Append
      // (it sets failed_ before it answers them, outside the lock).
      ended_.WaitForNotification();
      done(refused);
      return;
    }
    if (write) StartWrite(&in_flight_);
  }

  void WaitForRoom() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &AppendSessionImpl::HasRoomLocked));
  }

  absl::Status Finish() override ABSL_LOCKS_EXCLUDED(mu_) {
    bool writes_done = false;
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      if (!writing_ && !writes_done_ && !cancelled_ && !broken_) {
        writes_done_ = true;
        writes_done = true;
      }
    }
    if (writes_done) {
      StartWritesDone();
      ReleaseHold();
    }
    ended_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    return status_;
  }

  void Cancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      cancelled_ = true;
      queued_.clear();
      release = CanReleaseLocked();
    }
    context_.TryCancel();
    if (release) ReleaseHold();
  }

  // --- gRPC reactions ---

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    bool write = false;
    bool writes_done = false;
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok || cancelled_ || broken_) {
        // The stream is gone or ending: no more writes; OnDone reports why.
        writing_ = false;
        broken_ = true;
        queued_.clear();
        release = true;
      } else if (!queued_.empty()) {
        in_flight_ = std::move(queued_.front());
        queued_.pop_front();
        write = true;
      } else {
        writing_ = false;
        if (closing_ && !writes_done_) {
          writes_done_ = true;
          writes_done = true;
          release = true;
        }
      }
    }
    if (write) StartWrite(&in_flight_);
    if (writes_done) StartWritesDone();
    if (release) ReleaseHold();
  }

  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    if (!ok) {
      // The server ended the stream (or it broke): nothing more will be
      // answered, so no more writes; OnDone follows once the hold is gone.
      bool release = false;
      {
        absl::MutexLock lock(&mu_);
        broken_ = true;
        queued_.clear();
        release = CanReleaseLocked();
      }
      if (release) ReleaseHold();
      return;
    }
    std::vector<std::pair<Done, absl::StatusOr<v1::AppendResponse>>> answered;
    bool protocol_error = false;
    {
      absl::MutexLock lock(&mu_);
      for (v1::AppendAck& ack : *response_.mutable_acks()) {
        if (awaiting_.empty() || !awaiting_.front().refused.ok() ||
            awaiting_.front().correlation_id != ack.correlation_id()) {
          protocol_error_ = absl::InternalError(absl::StrCat(
              "the server acknowledged correlation id ", ack.correlation_id(),
              awaiting_.empty()
                  ? std::string(" with nothing unacknowledged")
                  : absl::StrCat(", expected ",
                                 awaiting_.front().correlation_id)));
          protocol_error = true;
          break;
        }
        answered.emplace_back(std::move(awaiting_.front().done), Result(ack));
        awaiting_.pop_front();
      }
    }
    response_.Clear();
    for (auto& [done, result] : answered) done(std::move(result));
    if (protocol_error) {
      context_.TryCancel();
      return;
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override ABSL_LOCKS_EXCLUDED(mu_) {
    std::deque<Awaiting> unanswered;
    absl::Status error;
    {
      absl::MutexLock lock(&mu_);
      status_ = protocol_error_.ok() ? rpc::FromGrpcStatus(status)
                                     : protocol_error_;
      if (status_.ok() && !awaiting_.empty() &&
          awaiting_.front().refused.ok()) {
        status_ = absl::InternalError(absl::StrCat(
            "the server ended the session with ", awaiting_.size(),
            " requests unacknowledged"));
      }
      failed_ = true;
      unanswered.swap(awaiting_);  // only refused ones when status_ is OK
      error = status_;
    }
    for (Awaiting& a : unanswered) {
      a.done(a.refused.ok() ? error : a.refused);
    }
    ended_.Notify();  // last: the destructor may run from here on
  }

 private:
  struct Awaiting {
    uint64_t correlation_id;
    Done done;
    // Not sent: Append came after Finish or Cancel.
    absl::Status refused;
  };

  static absl::StatusOr<v1::AppendResponse> Result(v1::AppendAck& ack) {
    switch (ack.result_case()) {
      case v1::AppendAck::kAppended:
        return std::move(*ack.mutable_appended());
      case v1::AppendAck::kError: {
        const google::rpc::Status& error = ack.error();
        if (error.code() == 0) break;
        return rpc::FromGrpcStatus(
            grpc::Status(static_cast<grpc::StatusCode>(error.code()),
                         error.message(), error.SerializeAsString()));
      }
      case v1::AppendAck::RESULT_NOT_SET:
        break;
    }
    return absl::InternalError(absl::StrCat(
        "the server's acknowledgement of correlation id ",
        ack.correlation_id(), " has neither a response nor an error"));
  }

  bool HasRoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return failed_ || broken_ || closing_ || awaiting_.size() < window_;
  }

  // Whether a thread that is neither writing nor ending the writes may
  // release the hold. Whoever starts a write or the writes' end does so
  // outside the lock, and releases the hold itself once it has started it
  // (or its completion does): released any earlier, the call could end
  // before that start, which gRPC then reports as a second end.
  bool CanReleaseLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !writing_ && !writes_done_;
  }

  void ReleaseHold() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!hold_) return;
      hold_ = false;
    }
    RemoveHold();
  }

  // Constant after construction.
  const size_t window_;

  grpc::ClientContext context_;
  // Used by the read side only (one read at a time).
  v1::AppendSessionResponse response_;
  // The request being written: set by whoever starts the write, read by
  // gRPC until OnWriteDone.
  v1::AppendSessionRequest in_flight_;
  absl::Notification ended_;  // OnDone has run

  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Awaiting> awaiting_ ABSL_GUARDED_BY(mu_);  // sent, unanswered
  std::deque<v1::AppendSessionRequest> queued_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_ ABSL_GUARDED_BY(mu_) = true;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;    // Finish or Cancel called
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;     // writing is over
  bool failed_ ABSL_GUARDED_BY(mu_) = false;     // OnDone ran
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  absl::Status protocol_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string DefaultServerAddress() {
  const char* env = std::getenv("ANNALS_SERVER");
  if (env != nullptr && *env != '\0') return env;
  return "localhost:7465";
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  absl::StatusOr<ClientCredentials> credentials =
      LoadClientCredentials(options);
  if (!credentials.ok()) return credentials.status();
  return std::make_unique<Client>(
      CreateChannel(options.server, *credentials, ChannelArgs(options)),
      options.deadline);
}

Client::Client(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : channel_(std::move(channel)),
      event_log_(v1::EventLog::NewStub(channel_)),
      health_(grpc::health::v1::Health::NewStub(channel_)),
      relationships_(v1::Relationships::NewStub(channel_)),
      admin_(v1::Admin::NewStub(channel_)),
      subscriptions_(v1::Subscriptions::NewStub(channel_)),
      audit_(v1::Audit::NewStub(channel_)),
      server_info_(v1::ServerInfo::NewStub(channel_)),
      deadline_(deadline) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  return NewContext(deadline_);
}

std::unique_ptr<grpc::ClientContext> Client::NewContext(
    absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

absl::StatusOr<v1::AppendResponse> Client::Append(
    const v1::AppendRequest& request) {
  return Call<v1::AppendResponse>(event_log_.get(), &v1::EventLog::Stub::Append,
                                  NewContext().get(), request);
}

void Client::AppendAsync(v1::AppendRequest request, AppendDone done) {
  // What gRPC's callback API needs alive until the call ends.
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    v1::AppendRequest request;
    v1::AppendResponse response;
    AppendDone done;
  };
  auto* call = new Call{NewContext(), std::move(request), {}, std::move(done)};
  event_log_->async()->Append(
      call->context.get(), &call->request, &call->response,
      [call](grpc::Status status) {
        std::unique_ptr<Call> ended(call);
        if (!status.ok()) {
          ended->done(rpc::FromGrpcStatus(status));
        } else {
          ended->done(std::move(ended->response));
        }
      });
}

absl::StatusOr<v1::AppendResponse> Client::AppendWhenAdmitted(
    const v1::AppendRequest& request, absl::Duration patience) {
  const absl::Time give_up = absl::Now() + patience;
  for (;;) {
    absl::StatusOr<v1::AppendResponse> response = Append(request);
    if (response.ok() || !absl::IsResourceExhausted(response.status())) {
      return response;
    }
    const absl::optional<absl::Duration> delay =
        rpc::RetryDelay(response.status());
    if (!delay.has_value() || absl::Now() + *delay > give_up) return response;
    absl::SleepFor(*delay);
  }
}

std::unique_ptr<AppendSession> Client::OpenAppendSession(size_t window) {
  return std::make_unique<AppendSessionImpl>(event_log_.get(), window);
}

absl::StatusOr<v1::ReadStreamResponse> Client::ReadStream(
    const v1::ReadStreamRequest& request) {
  return Call<v1::ReadStreamResponse>(event_log_.get(),
                                      &v1::EventLog::Stub::ReadStream,
                                      NewContext().get(), request);
}

absl::StatusOr<v1::ReadAllResponse> Client::ReadAll(
    const v1::ReadAllRequest& request) {
  return Call<v1::ReadAllResponse>(event_log_.get(),
                                   &v1::EventLog::Stub::ReadAll,
                                   NewContext().get(), request);
}

absl::StatusOr<v1::RecordedEvent> Client::GetEvent(const std::string& id) {
  v1::GetEventRequest request;
  request.set_id(id);
  absl::StatusOr<v1::GetEventResponse> response =
      Call<v1::GetEventResponse>(event_log_.get(),
                                 &v1::EventLog::Stub::GetEvent,
                                 NewContext().get(), request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_event());
}

absl::StatusOr<v1::GetEventResponse> Client::GetEventWithCorrections(
    const std::string& id) {
  v1::GetEventRequest request;
  request.set_id(id);
  return Call<v1::GetEventResponse>(event_log_.get(),
                                    &v1::EventLog::Stub::GetEvent,
                                    NewContext().get(), request);
}

absl::StatusOr<v1::SignedTreeHead> Client::GetTreeHead() {
  absl::StatusOr<v1::GetTreeHeadResponse> response =
      Call<v1::GetTreeHeadResponse>(audit_.get(), &v1::Audit::Stub::GetTreeHead,
                                    NewContext().get(), v1::GetTreeHeadRequest());
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_tree_head());
}

absl::StatusOr<v1::ProveInclusionResponse> Client::ProveInclusion(
    uint64_t position, uint64_t tree_size) {
  v1::ProveInclusionRequest request;
  request.set_position(position);
  request.set_tree_size(tree_size);
  return Call<v1::ProveInclusionResponse>(audit_.get(),
                                          &v1::Audit::Stub::ProveInclusion,
                                          NewContext().get(), request);
}

absl::StatusOr<v1::ProveConsistencyResponse> Client::ProveConsistency(
    uint64_t old_size, uint64_t new_size) {
  v1::ProveConsistencyRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  return Call<v1::ProveConsistencyResponse>(audit_.get(),
                                            &v1::Audit::Stub::ProveConsistency,
                                            NewContext().get(), request);
}

absl::StatusOr<v1::GetPublicKeyResponse> Client::GetPublicKey() {
  return Call<v1::GetPublicKeyResponse>(audit_.get(),
                                        &v1::Audit::Stub::GetPublicKey,
                                        NewContext().get(),
                                        v1::GetPublicKeyRequest());
}

absl::StatusOr<v1::ReadStoredResponse> Client::ReadStored(
    uint64_t from_position, uint32_t max_count) {
  v1::ReadStoredRequest request;
  request.set_from_position(from_position);
  request.set_max_count(max_count);
  return Call<v1::ReadStoredResponse>(audit_.get(), &v1::Audit::Stub::ReadStored,
                                      NewContext().get(), request);
}

absl::StatusOr<v1::GetServerInfoResponse> Client::GetServerInfo() {
  return Call<v1::GetServerInfoResponse>(
      server_info_.get(), &v1::ServerInfo::Stub::GetServerInfo,
      NewContext().get(), v1::GetServerInfoRequest());
}

absl::StatusOr<std::string> Client::Health(const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  absl::StatusOr<grpc::health::v1::HealthCheckResponse> response =
      Call<grpc::health::v1::HealthCheckResponse>(
          health_.get(), &grpc::health::v1::Health::Stub::Check,
          NewContext().get(), request);
  if (!response.ok()) return response.status();
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
      response->status());
}

absl::StatusOr<v1::GetRelationshipResponse> Client::GetRelationship(
    const v1::GetRelationshipRequest& request) {
  return Call<v1::GetRelationshipResponse>(
      relationships_.get(), &v1::Relationships::Stub::GetRelationship,
      NewContext().get(), request);
}

absl::Status Client::GetRelationship(const v1::GetRelationshipRequest& request,
                                     v1::GetRelationshipResponse* response) {
  return rpc::FromGrpcStatus(relationships_->GetRelationship(
      NewContext().get(), request, response));
}

absl::StatusOr<v1::ListRelationshipsResponse> Client::ListRelationships(
    const v1::ListRelationshipsRequest& request) {
  return Call<v1::ListRelationshipsResponse>(
      relationships_.get(), &v1::Relationships::Stub::ListRelationships,
      NewContext().get(), request);
}

absl::StatusOr<v1::QueryTimelineResponse> Client::QueryTimeline(
    const v1::QueryTimelineRequest& request) {
  return Call<v1::QueryTimelineResponse>(
      relationships_.get(), &v1::Relationships::Stub::QueryTimeline,
      NewContext().get(), request);
}

absl::StatusOr<v1::RebuildProjectionsResponse> Client::RebuildProjections(
    const v1::RebuildProjectionsRequest& request, absl::Duration deadline) {
  return Call<v1::RebuildProjectionsResponse>(
      admin_.get(), &v1::Admin::Stub::RebuildProjections,
      NewContext(deadline).get(), request);
}

absl::StatusOr<v1::CreateBackupResponse> Client::CreateBackup(
    const v1::CreateBackupRequest& request, absl::Duration deadline) {
  return Call<v1::CreateBackupResponse>(admin_.get(),
                                        &v1::Admin::Stub::CreateBackup,
                                        NewContext(deadline).get(), request);
}

absl::Status Client::Subscribe(
    const v1::SubscribeRequest& request,
    const std::function<bool(const v1::SubscribeResponse&)>& on_message) {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      subscriptions_->Subscribe(&context, request);
  return Follow<v1::SubscribeResponse>(&context, reader.get(), on_message);
}

absl::Status Client::WatchRelationship(
    const v1::WatchRelationshipRequest& request,
    const std::function<bool(const v1::WatchRelationshipResponse&)>&
        on_message) {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::WatchRelationshipResponse>> reader =
      subscriptions_->WatchRelationship(&context, request);
  return Follow<v1::WatchRelationshipResponse>(&context, reader.get(),
                                               on_message);
}

}  // namespace annals
