#include "services/server/reflection_v1.h"

#include <utility>

#include "grpc/reflection/v1/reflection.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/support/method_handler.h"

namespace annals::services {
namespace {

constexpr char kV1Method[] =
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
constexpr char kV1alphaMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

}  // namespace

ReflectionV1Service::ReflectionV1Service() {
  // Links the v1 descriptors into the generated pool, which v1alpha
  // answers from: the service it lists can be described.
  static_cast<void>(grpc::reflection::v1::ServerReflectionRequest::descriptor());
  AddMethod(new grpc::internal::RpcServiceMethod(
      kV1Method, grpc::internal::RpcMethod::BIDI_STREAMING,
      new grpc::internal::BidiStreamingHandler<
          ReflectionV1Service, grpc::ByteBuffer, grpc::ByteBuffer>(
          [](ReflectionV1Service* service, grpc::ServerContext* context,
             Stream* stream) { return service->Relay(context, stream); },
          this)));
}

void ReflectionV1Service::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  channel_ = std::move(channel);
}

grpc::Status ReflectionV1Service::Relay(grpc::ServerContext* context,
                                        Stream* stream) {
  std::shared_ptr<grpc::Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    channel = channel_;
  }
  if (channel == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "server reflection is not serving yet");
  }
  grpc::GenericStub stub(channel);
  grpc::ClientContext upstream_context;
  upstream_context.set_deadline(context->deadline());
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> upstream =
      stub.PrepareCall(&upstream_context, kV1alphaMethod, &cq);
  // Waits for the one operation started on `upstream`: whether it worked.
  auto completed = [&cq] {
    void* tag;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  upstream->StartCall(&cq);
  bool open = completed();
  grpc::ByteBuffer request;
  grpc::ByteBuffer answer;
  while (open && stream->Read(&request)) {
    upstream->Write(request, &cq);
    open = completed();
    if (open) {
      upstream->Read(&answer, &cq);
      open = completed();
    }
    if (open) open = stream->Write(answer);
  }
  if (open) {
    upstream->WritesDone(&cq);  // the caller has no more requests
    completed();
  } else {
    upstream_context.TryCancel();
  }
  grpc::Status status;
  upstream->Finish(&status, &cq);
  completed();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

}  // namespace annals::services
