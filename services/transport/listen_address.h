// What annalsd needs to know of a --listen address (HOST:PORT, [V6]:PORT)
// before and after it tries to listen on it.
#ifndef ANNALS_SERVICES_TRANSPORT_LISTEN_ADDRESS_H_
#define ANNALS_SERVICES_TRANSPORT_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"

namespace annals::services {

// A --listen address split: "[::1]:7465" is host "::1", port "7465";
// ":7465" has an empty host (every address).
struct HostPort {
  std::string host;
  std::string port;
};
// INVALID_ARGUMENT "not a HOST:PORT" when `address` has no ':'.
absl::StatusOr<HostPort> SplitHostPort(const std::string& address);

// Whether every address `address` resolves to is a loopback address
// (127.0.0.0/8, ::1): "localhost:7465" and "127.0.0.1:0" are, "0.0.0.0:7465",
// ":7465" and "[::]:7465" are not. INVALID_ARGUMENT when it is not a
// HOST:PORT that resolves.
absl::StatusOr<bool> IsLoopbackOnly(const std::string& address);

// OK when a server may listen on `address`: with TLS anywhere, without it
// on loopback addresses only unless `allow_insecure` (a trusted network).
// FAILED_PRECONDITION naming --tls-cert and --allow-insecure-listen
// otherwise; INVALID_ARGUMENT as IsLoopbackOnly.
absl::Status CheckListenSecurity(const std::string& address, bool tls,
                                 bool allow_insecure);

// Why gRPC could not listen on `address`: binds a socket to it the way gRPC
// does and says what the system said ("address already in use"), or that
// it is not a HOST:PORT.
std::string WhyCannotListen(const std::string& address);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_TRANSPORT_LISTEN_ADDRESS_H_
