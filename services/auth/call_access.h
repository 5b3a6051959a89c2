// The gRPC side of services/auth: who a call's principal is, from its
// metadata, its TLS peer and its address, and whether it may call the
// method it calls. Every handler of every annals service asks this first.
#ifndef ANNALS_SERVICES_AUTH_CALL_ACCESS_H_
#define ANNALS_SERVICES_AUTH_CALL_ACCESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "services/auth/authenticator.h"

namespace annals::auth {

class CallAccess {
 public:
  // With an `authenticator` (not owned; must outlive this), every call is
  // authenticated and authorized. Without one, authentication is off:
  // every caller may call everything, and is named "cert:SUBJECT" when it
  // presents a verified client certificate, else "anonymous@ADDRESS".
  explicit CallAccess(Authenticator* authenticator = nullptr)
      : authenticator_(authenticator) {}

  // The principal of the call of `context` when it may call `method` (its
  // full name, "/annals.v1.EventLog/Append"); the refusal otherwise
  // (Authenticator::Authenticate, Authorize). Thread-safe.
  absl::StatusOr<Principal> Check(const grpc::ServerContextBase& context,
                                  absl::string_view method) const;

  // Who the call of `context` is, for logs: the principal Check names when
  // the call's credentials are known (whatever the method), else
  // "unauthenticated@ADDRESS". Counts no failed attempt. Thread-safe.
  std::string Describe(const grpc::ServerContextBase& context) const;

 private:
  // What the call of `context` presents; `subject` holds its certificate
  // subject (read only when no authorization header decides).
  static Presented PresentedBy(const grpc::ServerContextBase& context,
                               absl::string_view peer, std::string* subject);
  // The principal of a call on a server without authentication.
  static std::string WithoutAuthentication(
      const grpc::ServerContextBase& context, absl::string_view peer);

  Authenticator* const authenticator_;
};

// The peer of `context` without its port: "ipv4:127.0.0.1:54321" ->
// "ipv4:127.0.0.1" (the port is ephemeral).
std::string PeerAddress(const grpc::ServerContextBase& context);

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_CALL_ACCESS_H_
