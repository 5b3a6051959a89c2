// One HTTP connection of services/http/http_server.h, plain or TLS: reads
// requests one at a time and answers each — an asset, a unary call's JSON,
// or an event stream that holds the connection until either side ends it.
// Internal to http_server.cc (the template is instantiated there for both
// stream types).
#ifndef ANNALS_SERVICES_HTTP_CONNECTION_H_
#define ANNALS_SERVICES_HTTP_CONNECTION_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "services/http/gateway.h"
#include "services/http/http_observer.h"
#include "services/http/route_table.h"

namespace annals::http {

namespace beast = boost::beast;
namespace net = boost::asio;
using Request = beast::http::request<beast::http::string_body>;
using Response = beast::http::response<beast::http::string_body>;

// The response of an error: its google.rpc.Status as JSON (StatusJson),
// the HTTP status grpc-gateway gives its code (HttpStatusOf), and for
// UNAUTHENTICATED the scheme to answer with (WWW-Authenticate: Bearer).
Response JsonError(const grpc::Status& status, unsigned version);

// What every connection shares: the server's routes, gateway, assets and
// options (HttpServer::Impl).
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // What to do with a request: answer it now, open an event stream, or
  // wait: the host has started a gateway call and calls `respond` once,
  // from another thread, with the response.
  struct StreamStart {
    const Route* route;
    std::unique_ptr<google::protobuf::Message> message;
    // Who asked: the connection's caller with the request's credentials.
    Caller caller;
  };
  struct Answer {
    std::optional<Response> response;
    std::optional<StreamStart> stream;
  };
  virtual Answer Dispatch(const Request& request, const Caller& caller,
                          std::function<void(Response)> respond) = 0;
  // The headers every response to `request` gets (CORS).
  virtual void Decorate(const Request& request,
                        beast::http::fields* fields) const = 0;
  // Gateway::OpenStream, for a stream the server ends when it stops;
  // null when it is stopping.
  virtual std::shared_ptr<GatewayStream> OpenStream(
      const StreamStart& start,
      GatewayStream::MessageHandler on_message, GatewayStream::DoneHandler on_done) = 0;
  virtual absl::Duration heartbeat() const = 0;
  // Told of every response (HttpOptions::observer); never null.
  virtual HttpObserver& observer() = 0;
  virtual size_t max_body_bytes() const = 0;
};

template <typename Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  // `keep` is what the stream needs alive as long as it lives (its TLS
  // context).
  Connection(ConnectionHost* host, Stream stream, Caller caller,
             std::shared_ptr<void> keep = nullptr)
      : host_(host),
        keep_(std::move(keep)),
        stream_(std::move(stream)),
        caller_(std::move(caller)),
        heartbeat_(stream_.get_executor()) {}

  // Reads the first request (after the TLS handshake for a TLS stream).
  void Start();

 private:
  using Self = Connection<Stream>;

  void OnHandshake(beast::error_code error);
  // A request: its header, "100 Continue" when the client waits for it,
  // then its body.
  void Read();
  void OnReadHeader(beast::error_code error, size_t bytes);
  void ReadBody();
  void OnRead(beast::error_code error, size_t bytes);
  void Handle(Request request);
  void Send(Response response, bool keep_alive);
  void Close();

  // Event streams (see sse.h).
  void StartStream(const Request& request, ConnectionHost::StreamStart start);
  void OnStreamMessage(std::shared_ptr<const std::string> text);
  void OnStreamDone(const grpc::Status& status);
  void WatchForClose();
  void ArmHeartbeat();
  void Pump();

  ConnectionHost* const host_;
  const std::shared_ptr<void> keep_;
  Stream stream_;
  Caller caller_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;

  // While an event stream is open. All on the connection's strand.
  struct Chunk {
    std::shared_ptr<const std::string> text;  // shared with other streams
    bool message;  // a message of the stream: ask for the next once sent
  };
  std::shared_ptr<GatewayStream> stream_call_;
  std::unique_ptr<beast::http::response<beast::http::empty_body>> head_;
  std::unique_ptr<beast::http::response_serializer<beast::http::empty_body>>
      head_writer_;
  std::deque<Chunk> queue_;
  Chunk writing_chunk_;
  bool writing_ = false;
  bool head_sent_ = false;
  bool call_done_ = false;   // OnStreamDone ran
  bool finished_ = false;    // the last chunk is written or being written
  bool closed_ = false;      // the client went away or a write failed
  char probe_[64];
  net::steady_timer heartbeat_;
};

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_CONNECTION_H_
