#include "services/relationships/service.h"

#include <utility>

#include "proto/rpc_status.h"
#include "services/rpc/unary_reactor.h"

namespace annals::services {
namespace {

// The bytes of a GetRelationship answer: the state's slice holds a
// reference to its bytes (tens of KB, maybe shared with
// RelationshipAnswers), so nothing is copied.
grpc::ByteBuffer ToByteBuffer(SerializedResponse bytes) {
  auto* owned = new std::shared_ptr<const std::string>(std::move(bytes.state));
  grpc::Slice slices[2] = {
      grpc::Slice(
          const_cast<char*>((*owned)->data()), (*owned)->size(),
          [](void* p) {
            delete static_cast<std::shared_ptr<const std::string>*>(p);
          },
          owned),
      grpc::Slice(bytes.rest)};
  return grpc::ByteBuffer(slices, bytes.rest.empty() ? 1 : 2);
}

v1::RebuildProjectionsResponse ToResponse(
    const storage::RebuildReport& report) {
  v1::RebuildProjectionsResponse response;
  response.set_events(report.events);
  response.set_keys(report.keys);
  response.set_missing(report.missing);
  response.set_unexpected(report.unexpected);
  response.set_different(report.different);
  response.set_first_difference(report.first_difference);
  response.set_matched(report.matched());
  response.set_repaired(report.repaired);
  return response;
}

}  // namespace

grpc::ServerUnaryReactor* RelationshipsService::GetRelationship(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetRelationshipRequest, grpc::ByteBuffer>(
      access_->Check(*context, "/annals.v1.Relationships/GetRelationship")
          .status(),
      context, request, response,
      [this](const v1::GetRelationshipRequest& get)
          -> absl::StatusOr<grpc::ByteBuffer> {
        absl::StatusOr<SerializedResponse> bytes =
            queries_.SerializedRelationship(get);
        if (!bytes.ok()) return bytes.status();
        return ToByteBuffer(*std::move(bytes));
      });
}

grpc::ServerUnaryReactor* RelationshipsService::ListRelationships(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListRelationshipsRequest,
                    v1::ListRelationshipsResponse>(
      access_->Check(*context, "/annals.v1.Relationships/ListRelationships")
          .status(),
      context, request, response,
      [this](const v1::ListRelationshipsRequest& list) {
        return queries_.ListRelationships(list);
      });
}

grpc::ServerUnaryReactor* RelationshipsService::QueryTimeline(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::QueryTimelineRequest, v1::QueryTimelineResponse>(
      access_->Check(*context, "/annals.v1.Relationships/QueryTimeline")
          .status(),
      context, request, response,
      [this](const v1::QueryTimelineRequest& query) {
        return queries_.QueryTimeline(query);
      });
}

AdminService::~AdminService() {
  absl::MutexLock lock(&mu_);
  if (rebuild_.joinable()) rebuild_.join();
}

grpc::ServerUnaryReactor* AdminService::RebuildProjections(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  using Response = v1::RebuildProjectionsResponse;
  return ServeUnary<v1::RebuildProjectionsRequest, Response>(
      access_->Check(*context, "/annals.v1.Admin/RebuildProjections").status(),
      context, request, response,
      [this](const v1::RebuildProjectionsRequest& rebuild,
             Respond<Response> respond) {
        const bool repair = rebuild.repair();
        absl::MutexLock lock(&mu_);
        if (running_) {
          return respond(absl::AbortedError(
              "a rebuild is already running; try again when it has finished"));
        }
        if (rebuild_.joinable()) rebuild_.join();  // finished: running_ is false
        running_ = true;
        rebuild_ = std::thread([this, respond, repair] {
          absl::StatusOr<storage::RebuildReport> report =
              log_->RebuildProjections(repair);
          {
            absl::MutexLock lock(&mu_);
            running_ = false;
          }
          if (!report.ok()) return respond(report.status());
          respond(ToResponse(*report));
        });
      });
}

}  // namespace annals::services
