#include "clients/bench/http_target.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace annals::bench {

absl::StatusOr<HttpTarget> ParseHttpTarget(absl::string_view host_port,
                                           absl::string_view token) {
  const size_t colon = host_port.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http-server: want HOST:PORT (annalsd's --http-listen), got '",
        host_port, "'"));
  }
  HttpTarget target;
  absl::string_view host = host_port.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-server: an IPv6 address wants brackets, got '",
                     host_port, "'"));
  }
  target.host = std::string(host);
  target.port = absl::StrCat(port);
  target.host_header = std::string(host_port);
  if (!token.empty()) target.authorization = absl::StrCat("Bearer ", token);
  return target;
}

}  // namespace annals::bench
