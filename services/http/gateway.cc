#include "services/http/gateway.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "services/auth/call_access.h"
#include "services/http/transcoder.h"

namespace annals::http {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

grpc::ByteBuffer Serialize(const Message& message) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  // Serializing a valid message into a new buffer does not fail.
  (void)grpc::GenericSerialize<grpc::ProtoBufferWriter, Message>(
      message, &buffer, &own_buffer);
  return buffer;
}

// An answer of `method` whose bytes are not its response message.
grpc::Status Unreadable(const MethodDescriptor& method) {
  return grpc::Status(grpc::StatusCode::INTERNAL,
                      absl::StrCat("the answer of ", method.full_name(),
                                   " is not a ",
                                   method.output_type()->full_name()));
}

}  // namespace

std::string MethodPath(const MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

Gateway::Gateway(std::shared_ptr<grpc::Channel> channel, std::string key,
                 absl::Duration unary_deadline, size_t render_cache_bytes)
    : stub_(std::move(channel)),
      key_(std::move(key)),
      unary_deadline_(unary_deadline),
      texts_(render_cache_bytes) {}


void Gateway::Prepare(const Caller& caller,
                      grpc::ClientContext* context) const {
  context->AddMetadata(auth::kGatewayKeyHeader, key_);
  context->AddMetadata(auth::kGatewayPeerHeader, caller.peer);
  if (!caller.certificate_subject.empty()) {
    context->AddMetadata(auth::kGatewaySubjectHeader,
                         caller.certificate_subject);
  }
  if (caller.authorization.has_value()) {
    context->AddMetadata("authorization", *caller.authorization);
  }
  if (caller.min_position.has_value()) {
    context->AddMetadata("annals-min-position", *caller.min_position);
  }
}

void Gateway::CallUnary(const Route& route, const Message& request,
                        const Caller& caller, UnaryDone done) {
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };
  auto call = std::make_shared<Call>();
  Prepare(caller, &call->context);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + unary_deadline_));
  call->request = Serialize(request);
  const MethodDescriptor* method = route.method;
  stub_.UnaryCall(
      &call->context, MethodPath(*method), grpc::StubOptions(), &call->request,
      &call->response,
      [this, call, method, done = std::move(done)](grpc::Status status) {
        std::shared_ptr<const std::string> json;
        status = WithJsonFieldNames(status, *method->input_type());
        if (status.ok()) {
          json = texts_.Json(*method->output_type(), call->response);
          if (json == nullptr) status = Unreadable(*method);
        }
        done(status, std::move(json));
      });
}

std::shared_ptr<GatewayStream> Gateway::OpenStream(
    const Route& route, const Message& request, const Caller& caller,
    GatewayStream::MessageHandler on_message, GatewayStream::DoneHandler on_done) {
  std::shared_ptr<GatewayStream> stream(new GatewayStream(
      route.method, &texts_, std::move(on_message), std::move(on_done)));
  stream->self_ = stream;
  Prepare(caller, &stream->context_);
  stream->request_ = Serialize(request);
  stub_.PrepareBidiStreamingCall(&stream->context_, MethodPath(*route.method),
                                 grpc::StubOptions(), stream.get());
  stream->StartWriteLast(&stream->request_, grpc::WriteOptions());
  stream->StartRead(&stream->response_);
  stream->StartCall();
  return stream;
}

GatewayStream::GatewayStream(const MethodDescriptor* method,
                             RenderCache* texts, MessageHandler on_message,
                             DoneHandler on_done)
    : method_(method),
      texts_(texts),
      on_message_(std::move(on_message)),
      on_done_(std::move(on_done)) {}

void GatewayStream::Next() {
  {
    absl::MutexLock lock(&mu_);
    if (!held_) return;
    held_ = false;
  }
  StartRead(&response_);
  RemoveHold();
}

void GatewayStream::Cancel() {
  context_.TryCancel();
  {
    absl::MutexLock lock(&mu_);
    if (!held_) return;
    held_ = false;
  }
  RemoveHold();
}

void GatewayStream::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended: OnDone follows
  std::shared_ptr<const std::string> events =
      texts_->Events(*method_->output_type(), response_);
  if (events == nullptr) {
    Cancel();
    return;
  }
  // Held until Next or Cancel: without a read in flight, gRPC would
  // otherwise be free to end the call, and a later read would be on a
  // finished call.
  AddHold();
  MessageHandler on_message;
  {
    absl::MutexLock lock(&mu_);
    held_ = true;
    on_message = on_message_;
  }
  if (on_message) on_message(std::move(events));
}

void GatewayStream::OnDone(const grpc::Status& status) {
  DoneHandler on_done;
  {
    absl::MutexLock lock(&mu_);
    on_done = std::move(on_done_);
    on_message_ = nullptr;
    on_done_ = nullptr;
  }
  if (on_done) on_done(WithJsonFieldNames(status, *method_->input_type()));
  // gRPC is done with the reactor; the last holder frees it.
  std::shared_ptr<GatewayStream> self = std::move(self_);
}

}  // namespace annals::http
