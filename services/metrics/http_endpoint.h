// annalsd's HTTP endpoint: GET /metrics in the Prometheus text format,
// over cpp-httplib (Debian's libcpp-httplib-dev), with the server's TLS
// certificate when it has one and a bearer token of at least the reader
// role when it authenticates.
#ifndef ANNALS_SERVICES_METRICS_HTTP_ENDPOINT_H_
#define ANNALS_SERVICES_METRICS_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/auth/authenticator.h"

namespace httplib {
class Server;
}

namespace annals::metrics {

struct EndpointOptions {
  // HOST:PORT; port 0 picks a free port (MetricsEndpoint::port).
  std::string listen;
  // PEM files: with both, the endpoint speaks only HTTPS.
  std::string tls_cert;
  std::string tls_key;
  // Checks the "Authorization: Bearer TOKEN" of every request when set;
  // must outlive the endpoint. Without it every request is answered.
  auth::Authenticator* authenticator = nullptr;
};

class MetricsEndpoint {
 public:
  // Listens and serves on a thread of its own: GET /metrics answers
  // `render()` (called per request, on the endpoint's threads), anything
  // else 404. UNAVAILABLE naming the address when it cannot listen,
  // INVALID_ARGUMENT for a malformed address or unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const EndpointOptions& options, std::function<std::string()> render);
  // Stops serving and joins the thread.
  ~MetricsEndpoint();

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace annals::metrics

#endif  // ANNALS_SERVICES_METRICS_HTTP_ENDPOINT_H_
