#include "clients/client.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
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

}  // namespace

std::string DefaultServerAddress() {
  const char* env = std::getenv("ANNALS_SERVER");
  if (env != nullptr && *env != '\0') return env;
  return "localhost:7465";
}

Client::Client(const ClientOptions& options)
    : Client(grpc::CreateCustomChannel(options.server,
                                       grpc::InsecureChannelCredentials(),
                                       ChannelArgs(options)),
             options.deadline) {}

Client::Client(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : channel_(std::move(channel)),
      event_log_(v1::EventLog::NewStub(channel_)),
      health_(grpc::health::v1::Health::NewStub(channel_)),
      relationships_(v1::Relationships::NewStub(channel_)),
      admin_(v1::Admin::NewStub(channel_)),
      subscriptions_(v1::Subscriptions::NewStub(channel_)),
      audit_(v1::Audit::NewStub(channel_)),
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
