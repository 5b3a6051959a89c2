// annalsd's HTTP/1.1 front (annalsd --http-listen): the JSON gateway to
// every annotated RPC (services/http/gateway.h, transcoder.h), server-sent
// events for the streaming ones (sse.h), and the dashboard at / (assets.h).
//
// Built on Boost.Beast over Boost.Asio: every connection, SSE streams
// included, is a few asynchronous operations on a small pool of threads,
// never a thread of its own, so a thousand open event streams cost their
// buffers and not a thousand stacks (cpp-httplib, which serves /metrics,
// pins a thread per streaming client).
//
// With TLS credentials every connection is HTTPS, with the certificate
// gRPC serves (rotated on SIGHUP the same way: new connections get the new
// one) and, when they name client CAs, a verified client certificate as an
// identity. Bearer tokens and roles are the gRPC server's own: the
// gateway's calls go through the same checks.
#ifndef ANNALS_SERVICES_HTTP_HTTP_SERVER_H_
#define ANNALS_SERVICES_HTTP_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/http/http_observer.h"
#include "services/transport/tls_credentials.h"

namespace annals::http {

struct HttpOptions {
  // HOST:PORT; port 0 picks a free one (HttpServer::port).
  std::string listen;
  // HTTPS with these (not owned; must outlive the server). Null: plain
  // HTTP, which Start refuses off loopback unless allow_insecure_listen.
  services::TlsCredentials* tls = nullptr;
  bool allow_insecure_listen = false;
  // Origins allowed to call the API from a browser page of theirs
  // ("https://dash.example.org"); empty: no cross-origin calls.
  std::vector<std::string> cors_origins;
  // Serve the dashboard from this directory instead of the copy built in.
  std::string assets_dir;
  // A comment on every event stream this often, so that a quiet stream
  // stays open through proxies.
  absl::Duration heartbeat = absl::Seconds(15);
  // The longest a unary call may take.
  absl::Duration unary_deadline = absl::Seconds(60);
  // The largest request body accepted (413 beyond).
  size_t max_body_bytes = size_t{64} << 20;
  // Threads serving connections.
  int threads = 2;
  // Answers' JSON and events kept for the next answer of the same bytes
  // (render_cache.h).
  size_t render_cache_bytes = size_t{32} << 20;
  // Told of every response and event stream (not owned; must outlive the
  // server). Null: nothing is measured.
  HttpObserver* observer = nullptr;
};

class HttpServer {
 public:
  // Listens on options.listen and serves, calling the gRPC server through
  // `channel` (its in-process channel) with calls sealed by `gateway_key`
  // (services/server/server.h, Server::Gateway). UNAVAILABLE naming the
  // address when it cannot listen; FAILED_PRECONDITION for plain HTTP off
  // loopback; INVALID_ARGUMENT for a malformed address.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options, std::shared_ptr<grpc::Channel> channel,
      std::string gateway_key);

  // Stops listening, closes every connection and joins the threads. Call
  // before the gRPC server shuts down, or after: streams still open end
  // either way.
  ~HttpServer();

  int port() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_HTTP_SERVER_H_
