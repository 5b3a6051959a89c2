// The annals.v1.Relationships gRPC service (proto/annals/v1/query.proto): a
// thin adapter over RelationshipQueries. Every method is served raw (bytes
// in, bytes out) and parses its request through services/rpc, so that bytes
// that are not the request message get INVALID_ARGUMENT. (The Admin
// service of the same file is in services/admin/service.h.)
#ifndef ANNALS_SERVICES_RELATIONSHIPS_SERVICE_H_
#define ANNALS_SERVICES_RELATIONSHIPS_SERVICE_H_

#include "annals/v1/query.grpc.pb.h"
#include "services/auth/call_access.h"
#include "services/relationships/queries.h"
#include "storage/event_log.h"

namespace annals::services {

// GetRelationship's answer for the current state is the stored bytes plus
// the head, never parsed: gRPC's message API would parse and serialize them
// again (tens of KB on a large log).
class RelationshipsService final
    : public v1::Relationships::WithRawCallbackMethod_GetRelationship<
          v1::Relationships::WithRawCallbackMethod_ListRelationships<
              v1::Relationships::WithRawCallbackMethod_QueryTimeline<
                  v1::Relationships::Service>>> {
 public:
  // `log` and `access` must outlive the service; `access` checks every
  // call first. Thread-safe. `answers`, when set, must outlive the service
  // (RelationshipQueries).
  RelationshipsService(const storage::EventLog* log,
                       const auth::CallAccess* access,
                       const RelationshipAnswers* answers = nullptr)
      : queries_(log, answers), access_(access) {}

  grpc::ServerUnaryReactor* GetRelationship(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListRelationships(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* QueryTimeline(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;

 private:
  const RelationshipQueries queries_;
  const auth::CallAccess* const access_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_SERVICE_H_
