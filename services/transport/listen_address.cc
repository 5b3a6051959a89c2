#include "services/transport/listen_address.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace annals::services {
namespace {

using AddrInfo = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

// Resolves `address` for listening, or says why it does not resolve.
absl::StatusOr<AddrInfo> Resolve(const std::string& address) {
  absl::StatusOr<HostPort> split = SplitHostPort(address);
  if (!split.ok()) return split.status();
  const std::string& node = split->host;
  const std::string& port = split->port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int resolved = getaddrinfo(node.empty() ? nullptr : node.c_str(),
                                   port.c_str(), &hints, &found);
  if (resolved != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a valid HOST:PORT (", gai_strerror(resolved), ")"));
  }
  return AddrInfo(found, &freeaddrinfo);
}

bool IsLoopback(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

}  // namespace

absl::StatusOr<HostPort> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("not a HOST:PORT");
  }
  absl::string_view host(address.data(), colon);
  host = absl::StripSuffix(absl::StripPrefix(host, "["), "]");
  return HostPort{std::string(host), address.substr(colon + 1)};
}

absl::StatusOr<bool> IsLoopbackOnly(const std::string& address) {
  absl::StatusOr<AddrInfo> found = Resolve(address);
  if (!found.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen on ", address, ": ",
                     found.status().message()));
  }
  for (const addrinfo* a = found->get(); a != nullptr; a = a->ai_next) {
    if (!IsLoopback(a->ai_addr)) return false;
  }
  return true;
}

absl::Status CheckListenSecurity(const std::string& address, bool tls,
                                 bool allow_insecure) {
  if (tls || allow_insecure) return absl::OkStatus();
  absl::StatusOr<bool> loopback = IsLoopbackOnly(address);
  if (!loopback.ok()) return loopback.status();
  if (*loopback) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot listen on ", address,
      " without TLS: give --tls-cert and --tls-key (deploy/make-certs.sh "
      "makes a test CA), listen on a loopback address, or accept plaintext "
      "on a trusted network with --allow-insecure-listen"));
}

std::string WhyCannotListen(const std::string& address) {
  absl::StatusOr<AddrInfo> found = Resolve(address);
  if (!found.ok()) return std::string(found.status().message());
  const addrinfo* first = found->get();
  std::string why = "the address cannot be bound";
  const int fd = socket(first->ai_family, first->ai_socktype, 0);
  if (fd >= 0) {
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, first->ai_addr, first->ai_addrlen) != 0) {
      why = errno == EADDRINUSE
                ? "the address is in use (another annalsd, or another "
                  "program, listens on it)"
                : std::strerror(errno);
    }
    close(fd);
  }
  return why;
}

}  // namespace annals::services
