// The request of a method served raw (bytes in): one definition of how
// its bytes become the request message.
#ifndef ANNALS_SERVICES_RPC_RAW_REQUEST_H_
#define ANNALS_SERVICES_RPC_RAW_REQUEST_H_

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace annals::services {

// Parses `request` into `message`, sharing its slices (no copy); false
// when the bytes are not a `Message`.
template <typename Message>
bool ParseRawRequest(const grpc::ByteBuffer& request, Message* message) {
  grpc::ByteBuffer bytes(request);  // Deserialize consumes its buffer
  return grpc::SerializationTraits<Message>::Deserialize(&bytes, message).ok();
}

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RPC_RAW_REQUEST_H_
