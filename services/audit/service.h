// The annals.v1.Audit gRPC service (proto/annals/v1/audit.proto): signed
// tree heads, inclusion and consistency proofs, and positions exactly as
// stored for exports. AuditQueries holds the logic (validation naming each
// field, proofs from storage::EventLog); AuditService is the thin
// callback-API adapter, every method served raw and its request parsed
// through services/rpc (INVALID_ARGUMENT for bytes that are not the request
// message).
#ifndef ANNALS_SERVICES_AUDIT_SERVICE_H_
#define ANNALS_SERVICES_AUDIT_SERVICE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "annals/v1/audit.grpc.pb.h"
#include "services/audit/signer.h"
#include "services/auth/call_access.h"
#include "storage/event_log.h"

namespace annals::services {

// Most positions one ReadStored call returns.
inline constexpr uint32_t kMaxReadStored = 1000;

class AuditQueries {
 public:
  // `log` and `signer` must outlive the queries. Thread-safe.
  AuditQueries(const storage::EventLog* log, const TreeHeadSigner* signer)
      : log_(log), signer_(signer) {}

  // The current tree head, signed now.
  absl::StatusOr<v1::GetTreeHeadResponse> GetTreeHead() const;
  // INVALID_ARGUMENT naming position / tree_size when either is 0, the
  // position is above the tree size, or the tree size above the head.
  absl::StatusOr<v1::ProveInclusionResponse> ProveInclusion(
      const v1::ProveInclusionRequest& request) const;
  // INVALID_ARGUMENT naming old_size / new_size when either is 0, old_size
  // is above new_size, or new_size is above the head.
  absl::StatusOr<v1::ProveConsistencyResponse> ProveConsistency(
      const v1::ProveConsistencyRequest& request) const;
  v1::GetPublicKeyResponse GetPublicKey() const;
  // INVALID_ARGUMENT naming from_position (0) or max_count (> 1000).
  absl::StatusOr<v1::ReadStoredResponse> ReadStored(
      const v1::ReadStoredRequest& request) const;

 private:
  const storage::EventLog* const log_;
  const TreeHeadSigner* const signer_;
};

class AuditService final
    : public v1::Audit::WithRawCallbackMethod_GetTreeHead<
          v1::Audit::WithRawCallbackMethod_ProveInclusion<
              v1::Audit::WithRawCallbackMethod_ProveConsistency<
                  v1::Audit::WithRawCallbackMethod_GetPublicKey<
                      v1::Audit::WithRawCallbackMethod_ReadStored<
                          v1::Audit::Service>>>>> {
 public:
  // Every call is checked by `access` first; `access` must outlive the
  // service.
  AuditService(const storage::EventLog* log, const TreeHeadSigner* signer,
               const auth::CallAccess* access)
      : queries_(log, signer), access_(access) {}

  grpc::ServerUnaryReactor* GetTreeHead(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ProveInclusion(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ProveConsistency(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetPublicKey(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReadStored(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;

 private:
  const AuditQueries queries_;
  const auth::CallAccess* const access_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_AUDIT_SERVICE_H_
