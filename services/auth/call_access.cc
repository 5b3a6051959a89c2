#include "services/auth/call_access.h"

#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/auth_context.h"

namespace annals::auth {
namespace {

absl::string_view View(grpc::string_ref ref) {
  return absl::string_view(ref.data(), ref.size());
}

// The subject of the call's verified client certificate: its common name,
// else its first subject alternative name; empty without one.
std::string CertificateSubject(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  for (const char* property :
       {"x509_common_name", "x509_subject_alternative_name"}) {
    std::vector<grpc::string_ref> values = auth->FindPropertyValues(property);
    if (!values.empty()) return std::string(View(values.front()));
  }
  return "";
}

}  // namespace

std::string PeerAddress(const grpc::ServerContextBase& context) {
  std::string peer = context.peer();
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    peer.resize(peer.rfind(':'));
  }
  return peer;
}

std::string CallAccess::WithoutAuthentication(
    const grpc::ServerContextBase& context, absl::string_view peer) {
  const std::string subject = CertificateSubject(context);
  return subject.empty() ? absl::StrCat("anonymous@", peer)
                         : absl::StrCat("cert:", subject);
}

Presented CallAccess::PresentedBy(const grpc::ServerContextBase& context,
                                  absl::string_view peer,
                                  std::string* subject) {
  Presented presented;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    presented.authorization = View(it->second);
  } else {
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
