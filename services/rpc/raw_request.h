// The request of a method served raw (bytes in): one definition of how
// its bytes become the request message, and of what a request may hold,
// for every method of every service.
#ifndef ANNALS_SERVICES_RPC_RAW_REQUEST_H_
#define ANNALS_SERVICES_RPC_RAW_REQUEST_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/model/validation.h"

namespace annals::services {

// Parses `request` into `message`, sharing its slices (no copy).
// INVALID_ARGUMENT "the request could not be parsed as annals.v1.<Message>"
// when the bytes are not a `Message`.
//
// gRPC's own parsing of a typed method would answer such bytes with
// UNIMPLEMENTED and no message: every method is therefore served raw
// (WithRawCallbackMethod_…) and parses its request here.
template <typename Message>
absl::Status ParseRawMessage(const grpc::ByteBuffer& request,
                             Message* message) {
  grpc::ByteBuffer bytes(request);  // Deserialize consumes its buffer
  if (grpc::SerializationTraits<Message>::Deserialize(&bytes, message).ok()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the request could not be parsed as ",
                   Message::descriptor()->full_name()));
}

// ParseRawMessage, then CheckRequestFields (services/model/validation.h):
// also INVALID_ARGUMENT naming every unknown field, and every control
// character in an event's text. What every method does with its request
// (an AppendSession checks the fields of each request apart, to answer it
// alone).
template <typename Message>
absl::Status ParseRawRequest(const grpc::ByteBuffer& request,
                             Message* message) {
  absl::Status parsed = ParseRawMessage(request, message);
  if (!parsed.ok()) return parsed;
  return CheckRequestFields(*message);
}

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RPC_RAW_REQUEST_H_
