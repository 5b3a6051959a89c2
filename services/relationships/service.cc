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

}  // namespace annals::services
