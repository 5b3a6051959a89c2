// The gRPC side of the HTTP gateway: calls the annals services for HTTP
// clients over the server's in-process channel, with grpc::GenericStub, so
// that every call is served exactly as a gRPC client's (the same handlers,
// authentication, roles, limits, metrics). The client's credentials go as
// they came (the Authorization header), its address and verified
// certificate subject in metadata sealed with the gateway key
// (services/auth/call_access.h).
//
// Nothing here blocks a thread: unary calls complete through gRPC's
// callback API, and a stream reads its next message only when asked, so a
// slow HTTP client holds its stream back through gRPC's flow control.
#ifndef ANNALS_SERVICES_HTTP_GATEWAY_H_
#define ANNALS_SERVICES_HTTP_GATEWAY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "services/http/render_cache.h"
#include "services/http/route_table.h"

namespace annals::http {

// Who an HTTP request comes from.
struct Caller {
  // The Authorization header, when the request has one.
  std::optional<std::string> authorization;
  // The client's address as gRPC writes peers: "ipv4:127.0.0.1:54321",
  // "ipv6:[::1]:54321".
  std::string peer;
  // The subject of its verified TLS client certificate; empty without one.
  std::string certificate_subject;
  // The Annals-Min-Position header (services/server/position_gate.h), when
  // the request has one: passed on as the call's annals-min-position.
  std::optional<std::string> min_position;
};

// One server-streaming call (Subscribe, WatchRelationship) read a message
// at a time. Create with Gateway::OpenStream; Next asks for one message.
class GatewayStream
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // A message as server-sent events (sse.h), from a gRPC thread.
  using MessageHandler =
      std::function<void(std::shared_ptr<const std::string> events)>;
  // The call's end, once, from a gRPC thread; nothing is called after it.
  using DoneHandler = std::function<void(const grpc::Status&)>;

  // Asks for the next message: after the one before it was handled.
  void Next();
  // Ends the call (the HTTP client went away). Safe at any time, also
  // after the end; the owner of a stream that got a message must call
  // Next or Cancel, or the call never ends.
  void Cancel();

 private:
  friend class Gateway;
  GatewayStream(const google::protobuf::MethodDescriptor* method,
                RenderCache* texts, MessageHandler on_message,
                DoneHandler on_done);

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  const google::protobuf::MethodDescriptor* const method_;
  RenderCache* const texts_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  absl::Mutex mu_;
  MessageHandler on_message_ ABSL_GUARDED_BY(mu_);
  DoneHandler on_done_ ABSL_GUARDED_BY(mu_);
  // A message was handed over and no read is in flight (see OnReadDone).
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  // Keeps the reactor alive until gRPC is done with it.
  std::shared_ptr<GatewayStream> self_;
};

class Gateway {
 public:
  // Calls the server of `channel` (an in-process channel to annalsd's
  // server), sealing calls with `key`. `unary_deadline` bounds each unary
  // call. Answers are rendered through a RenderCache of
  // `render_cache_bytes`.
  Gateway(std::shared_ptr<grpc::Channel> channel, std::string key,
          absl::Duration unary_deadline, size_t render_cache_bytes);

  // Calls the unary method of `route` with `request`; `done` gets the
  // status and, when OK, the answer's canonical JSON. From a gRPC thread.
  using UnaryDone = std::function<void(const grpc::Status&,
                                       std::shared_ptr<const std::string>)>;
  void CallUnary(const Route& route, const google::protobuf::Message& request,
                 const Caller& caller, UnaryDone done);

  // Starts the streaming method of `route` with `request`. The first
  // message is read at once; each later one after a Next.
  std::shared_ptr<GatewayStream> OpenStream(
      const Route& route, const google::protobuf::Message& request,
      const Caller& caller, GatewayStream::MessageHandler on_message,
      GatewayStream::DoneHandler on_done);

 private:
  void Prepare(const Caller& caller, grpc::ClientContext* context) const;

  grpc::GenericStub stub_;
  const std::string key_;
  const absl::Duration unary_deadline_;
  RenderCache texts_;
};

// "/annals.v1.Relationships/GetRelationship" for its descriptor.
std::string MethodPath(const google::protobuf::MethodDescriptor& method);

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_GATEWAY_H_
