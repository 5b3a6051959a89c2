#include "services/auth/call_access.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/auth_context.h"

namespace annals::auth {
namespace {

absl::string_view View(grpc::string_ref ref) {
  return absl::string_view(ref.data(), ref.size());
}

std::optional<absl::string_view> Header(
    const grpc::ServerContextBase& context, absl::string_view name) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(name.data(), name.size()));
  if (it == metadata.end()) return std::nullopt;
  return View(it->second);
}

}  // namespace

std::string NewGatewayKey() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof(key)) != 1) return "";
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(key), sizeof(key)));
}

std::optional<std::string> CallAccess::Sealed(
    const grpc::ServerContextBase& context, absl::string_view header) const {
  if (gateway_key_.empty()) return std::nullopt;
  std::optional<absl::string_view> seal = Header(context, kGatewayKeyHeader);
  if (!seal.has_value() || seal->size() != gateway_key_.size() ||
      CRYPTO_memcmp(seal->data(), gateway_key_.data(), seal->size()) != 0) {
    return std::nullopt;
  }
  std::optional<absl::string_view> value = Header(context, header);
  if (!value.has_value()) return std::nullopt;
  return std::string(*value);
}

std::string CallAccess::CertificateSubject(
    const grpc::ServerContextBase& context) const {
  if (std::optional<std::string> forwarded =
          Sealed(context, kGatewaySubjectHeader)) {
    return *forwarded;
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  for (const char* property :
       {"x509_common_name", "x509_subject_alternative_name"}) {
    std::vector<grpc::string_ref> values = auth->FindPropertyValues(property);
    if (!values.empty()) return std::string(View(values.front()));
  }
  return "";
}

std::string CallAccess::Connection(
    const grpc::ServerContextBase& context) const {
  if (std::optional<std::string> forwarded =
          Sealed(context, kGatewayPeerHeader)) {
    return *forwarded;
  }
  return context.peer();
}

std::string CallAccess::PeerAddress(
    const grpc::ServerContextBase& context) const {
  std::string peer = Connection(context);
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    peer.resize(peer.rfind(':'));
  }
  return peer;
}

std::string CallAccess::WithoutAuthentication(
    const grpc::ServerContextBase& context, absl::string_view peer) const {
  const std::string subject = CertificateSubject(context);
  return subject.empty() ? absl::StrCat("anonymous@", peer)
                         : absl::StrCat("cert:", subject);
}

Presented CallAccess::PresentedBy(const grpc::ServerContextBase& context,
                                  absl::string_view peer,
                                  std::string* subject) const {
  Presented presented;
  presented.authorization = Header(context, "authorization");
  if (!presented.authorization.has_value()) {
    *subject = CertificateSubject(context);
  }
  presented.certificate_subject = *subject;
  presented.peer_address = peer;
  return presented;
}

absl::StatusOr<Principal> CallAccess::Check(
    const grpc::ServerContextBase& context, absl::string_view method) const {
  const std::string peer = PeerAddress(context);
  if (authenticator_ == nullptr) {
    return Principal{WithoutAuthentication(context, peer), Role::kAdmin};
  }
  std::string subject;
  absl::StatusOr<Principal> principal =
      authenticator_->Authenticate(PresentedBy(context, peer, &subject));
  if (!principal.ok()) return principal.status();
  if (absl::Status allowed = Authorize(*principal, method); !allowed.ok()) {
    return allowed;
  }
  return principal;
}

std::string CallAccess::Describe(const grpc::ServerContextBase& context) const {
  const std::string peer = PeerAddress(context);
  if (authenticator_ == nullptr) return WithoutAuthentication(context, peer);
  std::string subject;
  absl::StatusOr<Principal> principal =
      authenticator_->Identify(PresentedBy(context, peer, &subject));
  return principal.ok() ? principal->name
                        : absl::StrCat("unauthenticated@", peer);
}

}  // namespace annals::auth
