#include "services/metrics/http_endpoint.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "services/transport/listen_address.h"

namespace annals::metrics {
namespace {

// The reader role may read the metrics (services/auth/roles.h).
constexpr auth::Role kMetricsRole = auth::Role::kReader;

// Answers 401, 403 or 429 when the request may not read the metrics.
bool Refused(auth::Authenticator* authenticator, const httplib::Request& req,
             httplib::Response& res) {
  if (authenticator == nullptr) return false;
  auth::Presented presented;
  const std::string header = req.get_header_value("Authorization");
  if (req.has_header("Authorization")) presented.authorization = header;
  presented.peer_address = req.remote_addr;
  absl::StatusOr<auth::Principal> principal =
      authenticator->Authenticate(presented);
  if (!principal.ok()) {
    res.status = absl::IsResourceExhausted(principal.status()) ? 429 : 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(std::string(principal.status().message()) + "\n",
                    "text/plain");
    return true;
  }
  if (!auth::Grants(principal->role, kMetricsRole)) {
    res.status = 403;
    res.set_content(absl::StrCat("/metrics needs the role ",
                                 auth::RoleName(kMetricsRole), "; ",
                                 principal->name, " has the role ",
                                 auth::RoleName(principal->role), "\n"),
                    "text/plain");
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const EndpointOptions& options, std::function<std::string()> render) {
  absl::StatusOr<services::HostPort> split =
      services::SplitHostPort(options.listen);
  int port = -1;
  if (!split.ok() || !absl::SimpleAtoi(split->port, &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen must be HOST:PORT, got \"", options.listen, "\""));
  }
  const std::string& host = split->host;
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  if (!options.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(),
                                                    options.tls_key.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the metrics endpoint cannot use --tls-cert ", options.tls_cert,
          " and --tls-key ", options.tls_key));
    }
    endpoint->server_ = std::move(tls);
  } else {
    endpoint->server_ = std::make_unique<httplib::Server>();
  }
  auth::Authenticator* authenticator = options.authenticator;
  endpoint->server_->Get(
      "/metrics", [authenticator, render = std::move(render)](
                      const httplib::Request& req, httplib::Response& res) {
        if (Refused(authenticator, req, res)) return;
        res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
      });
  endpoint->port_ = port == 0 ? endpoint->server_->bind_to_any_port(host)
                              : (endpoint->server_->bind_to_port(host, port)
                                     ? port
                                     : -1);
  if (endpoint->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "the metrics endpoint cannot listen on ", options.listen));
  }
  httplib::Server* server = endpoint->server_.get();
  endpoint->thread_ = std::thread([server] { server->listen_after_bind(); });
  pthread_setname_np(endpoint->thread_.native_handle(), "annals-metrics");
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace annals::metrics
