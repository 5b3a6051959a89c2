// Unary calls served raw (bytes in, bytes out): one definition of parsing
// the request, calling the handler and finishing with its result, for
// every unary method of every service.
#ifndef ANNALS_SERVICES_RPC_UNARY_REACTOR_H_
#define ANNALS_SERVICES_RPC_UNARY_REACTOR_H_

#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/rpc_status.h"
#include "services/rpc/raw_request.h"

namespace annals::services {

// The answer of a unary call: finishes it with a result, once, from any
// thread. Its value is serialized into the call's response bytes when OK
// (a grpc::ByteBuffer goes as it is); its status is converted once
// (rpc::ToGrpcStatus, details kept).
template <typename Response>
class Respond {
 public:
  Respond(grpc::ServerUnaryReactor* reactor, grpc::ByteBuffer* response)
      : reactor_(reactor), response_(response) {}

  void operator()(absl::StatusOr<Response> result) const {
    if (result.ok()) {
      grpc::Status serialized = grpc::Status::OK;
      if constexpr (std::is_same_v<Response, grpc::ByteBuffer>) {
        response_->Swap(&*result);
      } else {
        bool own_buffer = false;
        serialized = grpc::SerializationTraits<Response>::Serialize(
            *result, response_, &own_buffer);
      }
      reactor_->Finish(serialized);
      return;
    }
    reactor_->Finish(rpc::ToGrpcStatus(result.status()));
  }

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

 private:
  grpc::ServerUnaryReactor* reactor_;
  grpc::ByteBuffer* response_;
};

// Serves a unary method registered raw (v1::S::WithRawCallbackMethod_M):
// finishes with `allowed` when the caller may not call it (the answer of
// auth::CallAccess::Check, asked before anything else), else parses
// `request` as a `Request` (ParseRawRequest: INVALID_ARGUMENT naming the
// message when it is not one), then calls `handle` with it, either
//   - handle(const Request&) -> absl::StatusOr<Response>: the call finishes
//     with what it returns, or
//   - handle(Request&&, Respond<Response>): the handler finishes the call
//     later, through the Respond, and may keep parts of the request (or
//     take it as const Request&).
// The parsed request lives only during the call to `handle`.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(const absl::Status& allowed,
                                     grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response,
                                     Handler&& handle) {
  const Respond<Response> respond(context->DefaultReactor(), response);
  Request parsed;
  if (!allowed.ok()) {
    respond(allowed);
  } else if (absl::Status status = ParseRawRequest(*request, &parsed);
             !status.ok()) {
    respond(status);
  } else if constexpr (std::is_invocable_v<Handler&, const Request&>) {
    respond(handle(static_cast<const Request&>(parsed)));
  } else {
    handle(std::move(parsed), respond);
  }
  return respond.reactor();
}

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RPC_UNARY_REACTOR_H_
