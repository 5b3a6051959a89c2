#include "services/audit/service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/rpc_status.h"
#include "services/rpc/unary_reactor.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

using rpc::FieldViolation;

// Checks 1 <= value <= limit; `limit_name` says what the limit is.
void CheckSize(uint64_t value, uint64_t limit, const char* field,
               absl::string_view limit_name,
               std::vector<FieldViolation>* violations) {
  if (value == 0) {
    violations->push_back({field, "required: must be at least 1"});
  } else if (value > limit) {
    violations->push_back(
        {field, absl::StrCat("must be at most ", limit_name, " ", limit,
                             ", got ", value)});
  }
}

}  // namespace

absl::StatusOr<v1::GetTreeHeadResponse> AuditQueries::GetTreeHead() const {
  const storage::TreeHead head = log_->GetTreeHead();
  ASSIGN_OR_RETURN(const uint64_t at, TreeHeadTime(*log_, head.size));
  v1::GetTreeHeadResponse response;
  ASSIGN_OR_RETURN(*response.mutable_tree_head(),
                   signer_->Sign(head.size, head.root, at));
  return response;
}

absl::StatusOr<v1::ProveInclusionResponse> AuditQueries::ProveInclusion(
    const v1::ProveInclusionRequest& request) const {
  const uint64_t head = log_->GetTreeHead().size;
  std::vector<FieldViolation> violations;
  CheckSize(request.tree_size(), head, "tree_size", "the tree size", &violations);
  CheckSize(request.position(),
            request.tree_size() == 0 ? head : request.tree_size(), "position",
            request.tree_size() == 0 ? "the tree size" : "tree_size",
            &violations);
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  ASSIGN_OR_RETURN(std::vector<std::string> path,
                   log_->ProveInclusion(request.position(), request.tree_size()));
  ASSIGN_OR_RETURN(std::string root, log_->RootAt(request.tree_size()));
  ASSIGN_OR_RETURN(std::vector<storage::StoredEvent> stored,
                   log_->ReadStored(request.position(), 1));
  if (stored.size() != 1) {
    return absl::DataLossError(
        absl::StrCat("position ", request.position(), " is missing"));
  }
  v1::ProveInclusionResponse response;
  response.set_position(request.position());
  response.set_tree_size(request.tree_size());
  response.set_stored(std::move(stored[0].stored));
  for (std::string& hash : path) response.add_audit_path(std::move(hash));
  response.set_root_hash(std::move(root));
  return response;
}

absl::StatusOr<v1::ProveConsistencyResponse> AuditQueries::ProveConsistency(
    const v1::ProveConsistencyRequest& request) const {
  const uint64_t head = log_->GetTreeHead().size;
  std::vector<FieldViolation> violations;
  CheckSize(request.new_size(), head, "new_size", "the tree size", &violations);
  CheckSize(request.old_size(),
            request.new_size() == 0 ? head : request.new_size(), "old_size",
            request.new_size() == 0 ? "the tree size" : "new_size", &violations);
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  ASSIGN_OR_RETURN(std::vector<std::string> proof,
                   log_->ProveConsistency(request.old_size(), request.new_size()));
  ASSIGN_OR_RETURN(std::string old_root, log_->RootAt(request.old_size()));
  ASSIGN_OR_RETURN(std::string new_root, log_->RootAt(request.new_size()));
  v1::ProveConsistencyResponse response;
  response.set_old_size(request.old_size());
  response.set_new_size(request.new_size());
  for (std::string& hash : proof) response.add_proof(std::move(hash));
  response.set_old_root_hash(std::move(old_root));
  response.set_new_root_hash(std::move(new_root));
  return response;
}

v1::GetPublicKeyResponse AuditQueries::GetPublicKey() const {
  v1::GetPublicKeyResponse response;
  response.set_public_key_pem(signer_->public_key_pem());
  response.set_key_id(signer_->key_id());
  return response;
}

absl::StatusOr<v1::ReadStoredResponse> AuditQueries::ReadStored(
    const v1::ReadStoredRequest& request) const {
  std::vector<FieldViolation> violations;
  if (request.from_position() == 0) {
    violations.push_back({"from_position", "required: must be at least 1"});
  }
  if (request.max_count() > kMaxReadStored) {
    violations.push_back({"max_count", absl::StrCat("must be at most ",
                                                    kMaxReadStored, ", got ",
                                                    request.max_count())});
  }
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  const uint64_t head = log_->GetHead().position;
  ASSIGN_OR_RETURN(
      std::vector<storage::StoredEvent> events,
      log_->ReadStored(request.from_position(),
                       request.max_count() == 0 ? 100 : request.max_count()));
  v1::ReadStoredResponse response;
  for (storage::StoredEvent& event : events) {
    v1::StoredEvent* out = response.add_events();
    out->set_position(event.position);
    out->set_chain_hash(std::move(event.chain_hash));
    out->set_stored(std::move(event.stored));
  }
  response.set_head(std::max(head, static_cast<uint64_t>(
                                       events.empty() ? 0 : events.back().position)));
  return response;
}

grpc::ServerUnaryReactor* AuditService::GetTreeHead(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetTreeHeadRequest, v1::GetTreeHeadResponse>(
      access_->Check(*context, "/annals.v1.Audit/GetTreeHead").status(),
      context, request, response,
      [this](const v1::GetTreeHeadRequest&) { return queries_.GetTreeHead(); });
}

grpc::ServerUnaryReactor* AuditService::ProveInclusion(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ProveInclusionRequest, v1::ProveInclusionResponse>(
      access_->Check(*context, "/annals.v1.Audit/ProveInclusion").status(),
      context, request, response,
      [this](const v1::ProveInclusionRequest& prove) {
        return queries_.ProveInclusion(prove);
      });
}

grpc::ServerUnaryReactor* AuditService::ProveConsistency(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ProveConsistencyRequest, v1::ProveConsistencyResponse>(
      access_->Check(*context, "/annals.v1.Audit/ProveConsistency").status(),
      context, request, response,
      [this](const v1::ProveConsistencyRequest& prove) {
        return queries_.ProveConsistency(prove);
      });
}

grpc::ServerUnaryReactor* AuditService::GetPublicKey(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetPublicKeyRequest, v1::GetPublicKeyResponse>(
      access_->Check(*context, "/annals.v1.Audit/GetPublicKey").status(),
      context, request, response,
      [this](const v1::GetPublicKeyRequest&)
          -> absl::StatusOr<v1::GetPublicKeyResponse> {
        return queries_.GetPublicKey();
      });
}

grpc::ServerUnaryReactor* AuditService::ReadStored(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ReadStoredRequest, v1::ReadStoredResponse>(
      access_->Check(*context, "/annals.v1.Audit/ReadStored").status(),
      context, request, response,
      [this](const v1::ReadStoredRequest& read) {
        return queries_.ReadStored(read);
      });
}

}  // namespace annals::services
