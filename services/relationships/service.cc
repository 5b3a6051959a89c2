#include "services/relationships/service.h"

#include <utility>

#include "proto/rpc_status.h"
#include "services/rpc/raw_request.h"
#include "services/rpc/unary_reactor.h"

namespace annals::services {

grpc::ServerUnaryReactor* RelationshipsService::GetRelationship(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::GetRelationshipRequest parsed;
  if (!ParseRawRequest(*request, &parsed)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "the request is not a GetRelationshipRequest"));
    return reactor;
  }
  absl::StatusOr<SerializedResponse> bytes =
      queries_.SerializedRelationship(parsed);
  if (bytes.ok()) {
    // The state's slice holds a reference to its bytes (tens of KB, maybe
    // shared with RelationshipAnswers): no copy.
    auto* owned = new std::shared_ptr<const std::string>(std::move(bytes->state));
    grpc::Slice slices[2] = {
        grpc::Slice(
            const_cast<char*>((*owned)->data()), (*owned)->size(),
            [](void* p) {
              delete static_cast<std::shared_ptr<const std::string>*>(p);
            },
            owned),
        grpc::Slice(bytes->rest)};
    *response = grpc::ByteBuffer(slices, bytes->rest.empty() ? 1 : 2);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  reactor->Finish(rpc::ToGrpcStatus(bytes.status()));
  return reactor;
}

grpc::ServerUnaryReactor* RelationshipsService::ListRelationships(
    grpc::CallbackServerContext* context,
    const v1::ListRelationshipsRequest* request,
    v1::ListRelationshipsResponse* response) {
  return FinishWith(context, queries_.ListRelationships(*request), response);
}

grpc::ServerUnaryReactor* RelationshipsService::QueryTimeline(
    grpc::CallbackServerContext* context,
    const v1::QueryTimelineRequest* request,
    v1::QueryTimelineResponse* response) {
  return FinishWith(context, queries_.QueryTimeline(*request), response);
}

AdminService::~AdminService() {
  absl::MutexLock lock(&mu_);
  if (rebuild_.joinable()) rebuild_.join();
}

grpc::ServerUnaryReactor* AdminService::RebuildProjections(
    grpc::CallbackServerContext* context,
    const v1::RebuildProjectionsRequest* request,
    v1::RebuildProjectionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool repair = request->repair();
  absl::MutexLock lock(&mu_);
  if (running_) {
    reactor->Finish(rpc::ToGrpcStatus(absl::AbortedError(
        "a rebuild is already running; try again when it has finished")));
    return reactor;
  }
  if (rebuild_.joinable()) rebuild_.join();  // finished: running_ is false
  running_ = true;
  rebuild_ = std::thread([this, reactor, response, repair] {
    absl::StatusOr<storage::RebuildReport> report =
        log_->RebuildProjections(repair);
    if (report.ok()) {
      response->set_events(report->events);
      response->set_keys(report->keys);
      response->set_missing(report->missing);
      response->set_unexpected(report->unexpected);
      response->set_different(report->different);
      response->set_first_difference(report->first_difference);
      response->set_matched(report->matched());
      response->set_repaired(report->repaired);
    }
    {
      absl::MutexLock lock(&mu_);
      running_ = false;
    }
    reactor->Finish(rpc::ToGrpcStatus(report.status()));
  });
  return reactor;
}

}  // namespace annals::services
