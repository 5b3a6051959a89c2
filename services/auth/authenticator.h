// Who is calling, and whether they may: annalsd's authentication (bearer
// tokens, verified client certificates) and authorization (roles per
// method, services/auth/roles.h), apart from gRPC so that every front
// (gRPC, HTTP) asks the same questions.
//
// Thread-safe; Reload may run while calls are checked.
#ifndef ANNALS_SERVICES_AUTH_AUTHENTICATOR_H_
#define ANNALS_SERVICES_AUTH_AUTHENTICATOR_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/failure_limiter.h"
#include "services/auth/principals_file.h"
#include "services/auth/roles.h"

namespace annals::auth {

struct AuthOptions {
  // The --auth-tokens file (services/auth/principals_file.h); empty: no
  // tokens.
  std::string tokens_file;
  // The --auth-certs file; empty: no client certificate has a role.
  std::string certs_file;
  // Failed attempts each peer address may make per minute (FailureLimiter);
  // 0: no limit. Default 30.
  int max_failures_per_minute = 30;
};

// An authenticated caller.
struct Principal {
  // What the log records as the writer of an event: "token:NAME",
  // "cert:SUBJECT", or on a server without authentication
  // "anonymous@ADDRESS".
  std::string name;
  Role role;
};

// What a call presents.
struct Presented {
  // The value of its "authorization" header, when it has one.
  std::optional<absl::string_view> authorization;
  // The subject of its verified client certificate (CN, else first SAN);
  // empty without one.
  absl::string_view certificate_subject;
  // The peer's address without its port ("ipv4:127.0.0.1"): failed
  // attempts are counted per address.
  absl::string_view peer_address;
};

class Authenticator {
 public:
  // Reads the files of `options`. Their errors (ReadPrincipals) name the
  // file and line.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Load(
      const AuthOptions& options);

  // Reads the files again and uses what they now hold; on an error keeps
  // what it had and returns the error. A token removed from the file is
  // refused from the next call on.
  absl::Status Reload();

  // The principal of a call:
  //  - with an authorization header: "Bearer TOKEN" of a known token (the
  //    token's digest is compared with every entry's in constant time);
  //  - else with a verified client certificate: its subject, with the role
  //    the certificates file gives it (PERMISSION_DENIED when it gives
  //    none);
  //  - else UNAUTHENTICATED.
  // UNAUTHENTICATED for an unknown token or a header that is not
  // "Bearer TOKEN"; RESOURCE_EXHAUSTED with a RetryInfo while the peer
  // address has failed too often (FailureLimiter). Never says what the
  // token was.
  absl::StatusOr<Principal> Authenticate(const Presented& presented);

  // What Authenticate answers, without counting a failed attempt or
  // refusing an address that failed too often: for logs, about calls
  // Authenticate has answered already.
  absl::StatusOr<Principal> Identify(const Presented& presented) const;

  // Tokens and certificate subjects known now.
  size_t tokens() const;
  size_t certificates() const;

 private:
  explicit Authenticator(const AuthOptions& options, Principals principals);

  // Constant after construction.
  const AuthOptions options_;

  FailureLimiter failures_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Principals> principals_ ABSL_GUARDED_BY(mu_);
};

// OK when `principal` may call `method` (its full name,
// "/annals.v1.EventLog/Append"); PERMISSION_DENIED naming the principal, its
// role and the role the method needs otherwise, or that the method has no
// rule.
absl::Status Authorize(const Principal& principal, absl::string_view method);

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_AUTHENTICATOR_H_
