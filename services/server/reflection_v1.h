// grpc.reflection.v1.ServerReflection, served by relaying to gRPC's own
// grpc.reflection.v1alpha.ServerReflection on the same server.
//
// gRPC 1.51 implements reflection only as v1alpha; clients such as grpcurl,
// Postman and grpc-js's tools ask v1 first. The two protocols are the same
// messages under another package name, so each v1 request is handed, byte
// for byte, to v1alpha over the server's in-process channel and its answer
// handed back: every answer (the service list, the descriptors) is gRPC's.
//
// The method is a synchronous one, as gRPC's v1alpha service is: a stream
// holds a server thread while it is open, and relays one request at a
// time (the protocol answers each request once, in order).
#ifndef ANNALS_SERVICES_SERVER_REFLECTION_V1_H_
#define ANNALS_SERVICES_SERVER_REFLECTION_V1_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/support/sync_stream.h"

namespace annals::services {

class ReflectionV1Service final : public grpc::Service {
 public:
  ReflectionV1Service();

  // The channel to the server this service is registered on, once it has
  // started; calls before are answered UNAVAILABLE. Thread-safe.
  void SetChannel(std::shared_ptr<grpc::Channel> channel);

 private:
  using Stream = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;

  grpc::Status Relay(grpc::ServerContext* context, Stream* stream);

  absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_REFLECTION_V1_H_
