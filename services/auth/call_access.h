// The gRPC side of services/auth: who a call's principal is, from its
// metadata, its TLS peer and its address, and whether it may call the
// method it calls. Every handler of every annals service asks this first.
//
// Calls the HTTP gateway (services/http) makes on behalf of its clients
// come over the server's in-process channel, whose peer is the process
// itself. The gateway says who its client is in metadata: the client's
// address and verified certificate subject, sealed with a key that only
// the gateway and this CallAccess hold (GatewayKey). Those values count
// only when the seal is the key; from any other caller they are ignored,
// so no client can claim another's address or certificate.
#ifndef ANNALS_SERVICES_AUTH_CALL_ACCESS_H_
#define ANNALS_SERVICES_AUTH_CALL_ACCESS_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "services/auth/authenticator.h"

namespace annals::auth {

// The metadata of a sealed gateway call.
inline constexpr char kGatewayKeyHeader[] = "annals-gateway-key";
inline constexpr char kGatewayPeerHeader[] = "annals-gateway-peer";
inline constexpr char kGatewaySubjectHeader[] = "annals-gateway-subject";

// A fresh random key for sealing gateway calls (32 bytes, hex).
std::string NewGatewayKey();

class CallAccess {
 public:
  // With an `authenticator` (not owned; must outlive this), every call is
  // authenticated and authorized. Without one, authentication is off:
  // every caller may call everything, and is named "cert:SUBJECT" when it
  // presents a verified client certificate, else "anonymous@ADDRESS".
  // `gateway_key` (NewGatewayKey) is the seal of the gateway's calls;
  // empty: no call is taken as the gateway's.
  explicit CallAccess(Authenticator* authenticator = nullptr,
                      std::string gateway_key = "")
      : authenticator_(authenticator), gateway_key_(std::move(gateway_key)) {}

  // The principal of the call of `context` when it may call `method` (its
  // full name, "/annals.v1.EventLog/Append"); the refusal otherwise
  // (Authenticator::Authenticate, Authorize). Thread-safe.
  absl::StatusOr<Principal> Check(const grpc::ServerContextBase& context,
                                  absl::string_view method) const;

  // Who the call of `context` is, for logs: the principal Check names when
  // the call's credentials are known (whatever the method), else
  // "unauthenticated@ADDRESS". Counts no failed attempt. Thread-safe.
  std::string Describe(const grpc::ServerContextBase& context) const;

  // The connection of the call: its peer with the port
  // ("ipv4:127.0.0.1:54321"), the gateway client's for a sealed gateway
  // call.
  std::string Connection(const grpc::ServerContextBase& context) const;

  // The peer of the call without its port: "ipv4:127.0.0.1:54321" ->
  // "ipv4:127.0.0.1" (the port is ephemeral).
  std::string PeerAddress(const grpc::ServerContextBase& context) const;

 private:
  // The value of a sealed gateway call's `header`; nullopt when the call
  // is not a sealed gateway call or has no such header.
  std::optional<std::string> Sealed(const grpc::ServerContextBase& context,
                                    absl::string_view header) const;
  // The subject of the call's verified client certificate (CN, else first
  // SAN), or the one a sealed gateway call names; empty without one.
  std::string CertificateSubject(const grpc::ServerContextBase& context) const;
  // What the call of `context` presents; `subject` holds its certificate
  // subject (read only when no authorization header decides).
  Presented PresentedBy(const grpc::ServerContextBase& context,
                        absl::string_view peer, std::string* subject) const;
  // The principal of a call on a server without authentication.
  std::string WithoutAuthentication(const grpc::ServerContextBase& context,
                                    absl::string_view peer) const;

  Authenticator* const authenticator_;
  const std::string gateway_key_;
};

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_CALL_ACCESS_H_
