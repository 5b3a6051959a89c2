// Where annals-bench's HTTP scenarios connect: annalsd's HTTP/JSON gateway
// (annalsd --http-listen), plain HTTP/1.1, with the bearer token of the
// connection flags when there is one.
#ifndef ANNALS_CLIENTS_BENCH_HTTP_TARGET_H_
#define ANNALS_CLIENTS_BENCH_HTTP_TARGET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::bench {

struct HttpTarget {
  std::string host;  // a name or an address ("127.0.0.1", "::1")
  std::string port;
  // The Host header: "HOST:PORT" as given.
  std::string host_header;
  // "Bearer TOKEN", or empty: no Authorization header.
  std::string authorization;
};

// The target of `host_port` ("127.0.0.1:7466", "[::1]:7466"), sending
// `token` when it is not empty. INVALID_ARGUMENT naming --http-server for
// anything else.
absl::StatusOr<HttpTarget> ParseHttpTarget(absl::string_view host_port,
                                           absl::string_view token);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_HTTP_TARGET_H_
