#include "services/http/http_server.h"

#include <pthread.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/audit.grpc.pb.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/server_info.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "services/http/assets.h"
#include "proto/rpc_status.h"
#include "services/http/connection.h"
#include "services/http/sse.h"
#include "services/http/transcoder.h"
#include "services/transport/listen_address.h"

namespace annals::http {
namespace {

namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// The page's own origin only: no script, style, font or connection may
// leave the server the dashboard came from.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self' "
    "'unsafe-inline'; frame-ancestors 'none'";

// The peer of `socket` as gRPC writes peers.
std::string PeerOf(const tcp::socket& socket) {
  beast::error_code error;
  const tcp::endpoint endpoint = socket.remote_endpoint(error);
  if (error) return "unknown";
  const net::ip::address address = endpoint.address();
  return address.is_v4()
             ? absl::StrCat("ipv4:", address.to_string(), ":", endpoint.port())
             : absl::StrCat("ipv6:[", address.to_string(), "]:",
                            endpoint.port());
}

// The CORS headers of a response to `origin` (nothing when empty).
void AllowOrigin(const std::string& origin, http::fields* fields) {
  if (origin.empty()) return;
  fields->set(http::field::access_control_allow_origin, origin);
  fields->set(http::field::vary, "Origin");
}

// A header value gRPC may carry as metadata: printable ASCII.
bool IsPrintable(absl::string_view value) {
  for (const char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

// Measures nothing (when HttpOptions::observer is null).
class Unobserved final : public HttpObserver {
 public:
  void Responded(int) override {}
  void StreamOpened() override {}
  void StreamClosed() override {}
};

class HttpServer::Impl final : public ConnectionHost {
 public:
  Impl(const HttpOptions& options, RouteTable routes,
       std::shared_ptr<grpc::Channel> channel, std::string key)
      : options_(options),
        routes_(std::move(routes)),
        gateway_(std::move(channel), std::move(key), options.unary_deadline,
                 options.render_cache_bytes),
        assets_(options.assets_dir),
        observer_(options.observer != nullptr ? options.observer : &unobserved_),
        io_(options.threads),
        acceptor_(net::make_strand(io_)) {}

  absl::Status Listen();
  void Stop();
  int port() const { return port_; }

  Answer Dispatch(const Request& request, const Caller& caller,
                  std::function<void(Response)> respond) override;
  void Decorate(const Request& request,
                http::fields* fields) const override;
  // The request's Origin when CORS allows it; empty otherwise.
  std::string AllowedOrigin(const Request& request) const;
  std::shared_ptr<GatewayStream> OpenStream(
      const StreamStart& start, GatewayStream::MessageHandler on_message,
      GatewayStream::DoneHandler on_done) override;
  absl::Duration heartbeat() const override { return options_.heartbeat; }
  HttpObserver& observer() override { return *observer_; }
  size_t max_body_bytes() const override { return options_.max_body_bytes; }

 private:
  // Counts the gateway calls and streams whose callbacks may still post
  // to io_: Stop waits for none.
  void Hold() {
    absl::MutexLock lock(&mu_);
    ++held_;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    --held_;
  }

  void Accept();
  void OnAccept(beast::error_code error, tcp::socket socket);
  // The TLS context for the next connection: rebuilt when the
  // certificates were read again (SIGHUP).
  absl::StatusOr<std::shared_ptr<ssl::context>> TlsContext();
  Answer Api(const Request& request, absl::string_view path,
             absl::string_view query, const Caller& caller,
             std::function<void(Response)> respond);
  Response File(const Request& request, absl::string_view path) const;

  const HttpOptions options_;
  const RouteTable routes_;
  Gateway gateway_;
  const Assets assets_;
  Unobserved unobserved_;
  HttpObserver* const observer_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;

  absl::Mutex mu_;
  // Gateway calls and streams that may still post to io_.
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const services::TlsCredentials::Pem> pem_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ssl::context> tls_ ABSL_GUARDED_BY(mu_);
  // Every event stream open, to end them at Stop (expired ones are
  // dropped when the list reaches prune_at_).
  std::vector<std::weak_ptr<GatewayStream>> streams_ ABSL_GUARDED_BY(mu_);
  size_t prune_at_ ABSL_GUARDED_BY(mu_) = 64;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

absl::Status HttpServer::Impl::Listen() {
  absl::Status secure = services::CheckListenSecurity(
      options_.listen, options_.tls != nullptr, options_.allow_insecure_listen);
  if (!secure.ok()) return secure;
  // CheckListenSecurity resolved the address: it is a HOST:PORT.
  absl::StatusOr<services::HostPort> split =
      services::SplitHostPort(options_.listen);
  if (!split.ok()) return split.status();
  beast::error_code error;
  tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(split->host, split->port,
                                          tcp::resolver::passive, error);
  if (error || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen must be HOST:PORT, got \"",
                     options_.listen, "\": ", error.message()));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(net::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.listen, ": ", error.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
    pthread_setname_np(threads_.back().native_handle(), "annals-http");
  }
  return absl::OkStatus();
}

void HttpServer::Impl::Stop() {
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::weak_ptr<GatewayStream>> streams;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    streams.swap(streams_);
  }
  for (const std::weak_ptr<GatewayStream>& weak : streams) {
    if (std::shared_ptr<GatewayStream> stream = weak.lock()) stream->Cancel();
  }
  {
    // Every call ends within its deadline, every stream once cancelled.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](int* held) { return *held == 0; }, &held_),
                         options_.unary_deadline + absl::Seconds(5));
  }
  io_.stop();
  for (std::thread& thread : threads_) thread.join();
}

std::shared_ptr<GatewayStream> HttpServer::Impl::OpenStream(
    const StreamStart& start, GatewayStream::MessageHandler on_message,
    GatewayStream::DoneHandler on_done) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return nullptr;
    ++held_;
  }
  observer_->StreamOpened();
  std::shared_ptr<GatewayStream> stream = gateway_.OpenStream(
      *start.route, *start.message, start.caller, std::move(on_message),
      [this, on_done = std::move(on_done)](const grpc::Status& status) mutable {
        on_done(status);
        // `on_done` may hold its connection's last reference: let it go
        // before Release, after which Stop may destroy io_, which the
        // connection's timers need when they are destroyed.
        on_done = nullptr;
        observer_->StreamClosed();
        Release();
      });
  absl::MutexLock lock(&mu_);
  streams_.push_back(stream);
  if (streams_.size() >= prune_at_) {
    streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                  [](const auto& weak) { return weak.expired(); }),
                   streams_.end());
    prune_at_ = std::max<size_t>(64, 2 * streams_.size());
  }
  return stream;
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(
      net::make_strand(io_),
      beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code error, tcp::socket socket) {
  if (error == net::error::operation_aborted) return;  // stopped
  if (!error) {
    Caller caller;
    caller.peer = PeerOf(socket);
    socket.set_option(tcp::no_delay(true), error);
    if (options_.tls == nullptr) {
      std::make_shared<Connection<beast::tcp_stream>>(
          this, beast::tcp_stream(std::move(socket)), std::move(caller))
          ->Start();
    } else if (absl::StatusOr<std::shared_ptr<ssl::context>> tls = TlsContext();
               tls.ok()) {
      std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(
          this,
          beast::ssl_stream<beast::tcp_stream>(std::move(socket), **tls),
          std::move(caller), *tls)
          ->Start();
    }
  }
  Accept();
}

absl::StatusOr<std::shared_ptr<ssl::context>> HttpServer::Impl::TlsContext() {
  std::shared_ptr<const services::TlsCredentials::Pem> pem =
      options_.tls->pem();
  absl::MutexLock lock(&mu_);
  if (pem == pem_ && tls_ != nullptr) return tls_;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  beast::error_code error;
  context->set_options(ssl::context::default_workarounds |
                       ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context->use_certificate_chain(net::buffer(pem->cert), error);
  if (!error) {
    context->use_private_key(net::buffer(pem->key), ssl::context::pem, error);
  }
  if (!error && !pem->client_ca.empty()) {
    context->add_certificate_authority(net::buffer(pem->client_ca), error);
    // Verified when presented; one without a certificate may still
    // authenticate with a token (as on the gRPC port).
    if (!error) context->set_verify_mode(ssl::verify_peer, error);
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot use the TLS certificate: ", error.message()));
  }
  pem_ = std::move(pem);
  tls_ = std::move(context);
  return tls_;
}

std::string HttpServer::Impl::AllowedOrigin(const Request& request) const {
  const auto origin = request.find(http::field::origin);
  if (origin == request.end()) return "";
  const absl::string_view value(origin->value().data(), origin->value().size());
  for (const std::string& allowed : options_.cors_origins) {
    if (allowed == value) return allowed;
  }
  return "";
}

void HttpServer::Impl::Decorate(const Request& request,
                                http::fields* fields) const {
  AllowOrigin(AllowedOrigin(request), fields);
}

ConnectionHost::Answer HttpServer::Impl::Dispatch(
    const Request& request, const Caller& connection_caller,
    std::function<void(Response)> respond) {
  const absl::string_view target(request.target().data(),
                                 request.target().size());
  const size_t mark = target.find('?');
  const absl::string_view path = target.substr(0, mark);
  const absl::string_view query =
      mark == absl::string_view::npos ? "" : target.substr(mark + 1);
  Answer answer;
  if (request.method() == http::verb::options) {
    Response response(http::status::no_content, request.version());
    Decorate(request, &response);
    if (response.find(http::field::access_control_allow_origin) !=
        response.end()) {
      response.set(http::field::access_control_allow_methods,
                   "GET, POST, OPTIONS");
      response.set(http::field::access_control_allow_headers,
                   "authorization, content-type, last-event-id, "
                   "annals-min-position");
      response.set(http::field::access_control_max_age, "600");
    }
    answer.response = std::move(response);
    return answer;
  }
  if (absl::StartsWith(path, "/v1/")) {
    Caller caller = connection_caller;
    if (const auto header = request.find(http::field::authorization);
        header != request.end()) {
      caller.authorization = std::string(header->value());
    }
    if (const auto header = request.find("annals-min-position");
        header != request.end()) {
      caller.min_position = std::string(header->value());
    }
    answer = Api(request, path, query, caller,
                 [origin = AllowedOrigin(request),
                  respond = std::move(respond)](Response response) {
                   AllowOrigin(origin, &response);
                   respond(std::move(response));
                 });
  } else {
    answer.response = File(request, path);
  }
  if (answer.response.has_value()) Decorate(request, &*answer.response);
  return answer;
}

ConnectionHost::Answer HttpServer::Impl::Api(
    const Request& request, absl::string_view path, absl::string_view query,
    const Caller& caller, std::function<void(Response)> respond) {
  Answer answer;
  const std::string method(request.method_string());
  RouteMatch match = routes_.Find(method, path);
  if (match.route == nullptr) {
    if (!match.allowed.empty()) {
      Response response = JsonError(
          grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                       absl::StrCat(path, " takes ",
                                    absl::StrJoin(match.allowed, ", "),
                                    ", not ", method)),
          request.version());
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, absl::StrJoin(match.allowed, ", "));
      answer.response = std::move(response);
    } else {
      answer.response = JsonError(
          grpc::Status(
              grpc::StatusCode::NOT_FOUND,
              absl::StrCat("no API route ", method, " ", path,
                           " (the routes are the google.api.http options of "
                           "proto/annals/v1)")),
          request.version());
    }
    return answer;
  }
  if (caller.authorization.has_value() &&
      !IsPrintable(*caller.authorization)) {
    answer.response = JsonError(
        grpc::Status(
            grpc::StatusCode::UNAUTHENTICATED,
            "the Authorization header must be \"Bearer TOKEN\" in printable "
            "ASCII"),
        request.version());
    return answer;
  }
  if (caller.min_position.has_value() && !IsPrintable(*caller.min_position)) {
    answer.response = JsonError(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     "the Annals-Min-Position header must be a position (a "
                     "number of 0 or more)"),
        request.version());
    return answer;
  }
  absl::StatusOr<QueryParams> params = ParseQuery(query);
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message =
      params.ok() ? BuildRequest(match, *params, request.body())
                  : params.status();
  if (!message.ok()) {
    answer.response =
        JsonError(rpc::ToGrpcStatus(message.status()), request.version());
    return answer;
  }
  if (match.route->streaming) {
    if (const auto last = request.find("Last-Event-ID"); last != request.end()) {
      if (absl::Status resumed = ResumeAfter(
              absl::string_view(last->value().data(), last->value().size()),
              message->get());
          !resumed.ok()) {
        answer.response =
            JsonError(rpc::ToGrpcStatus(resumed), request.version());
        return answer;
      }
    }
    answer.stream = StreamStart{match.route, *std::move(message), caller};
    return answer;
  }
  Hold();
  gateway_.CallUnary(
      *match.route, **message, caller,
      [this, respond = std::move(respond)](
          const grpc::Status& status, std::shared_ptr<const std::string> json) {
        Response response;
        if (status.ok()) {
          response.result(http::status::ok);
          response.set(http::field::content_type, "application/json");
          response.body() = *json;
        } else {
          response = JsonError(status, 11);
        }
        respond(std::move(response));
        Release();
      });
  return answer;
}

Response HttpServer::Impl::File(const Request& request,
                                absl::string_view path) const {
  if (request.method() != http::verb::get &&
      request.method() != http::verb::head) {
    Response response(http::status::method_not_allowed, request.version());
    response.set(http::field::allow, "GET, HEAD");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "the dashboard's files take GET\n";
    return response;
  }
  std::optional<Asset> asset = assets_.Find(path);
  if (!asset.has_value()) {
    Response response(http::status::not_found, request.version());
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = absl::StrCat("no such file: ", path, "\n");
    return response;
  }
  Response response(http::status::ok, request.version());
  response.set(http::field::content_type, asset->content_type);
  response.set(http::field::cache_control, "no-cache");
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  if (request.method() == http::verb::get) response.body() = std::move(asset->body);
  return response;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { impl_->Stop(); }

int HttpServer::port() const { return impl_->port(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpOptions& options, std::shared_ptr<grpc::Channel> channel,
    std::string gateway_key) {
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const char* name :
       {v1::EventLog::service_full_name(),
        v1::Relationships::service_full_name(), v1::Admin::service_full_name(),
        v1::Audit::service_full_name(), v1::ServerInfo::service_full_name(),
        v1::Subscriptions::service_full_name()}) {
    services.push_back(
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name));
  }
  absl::StatusOr<RouteTable> routes = RouteTable::Build(services);
  if (!routes.ok()) return routes.status();
  auto impl = std::make_unique<Impl>(options, *std::move(routes),
                                     std::move(channel), std::move(gateway_key));
  if (absl::Status listening = impl->Listen(); !listening.ok()) {
    return listening;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace annals::http
