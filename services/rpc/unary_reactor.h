// Finishing a callback-API unary call from a domain result: one definition
// for the services whose handlers are "validate, query, answer".
#ifndef ANNALS_SERVICES_RPC_UNARY_REACTOR_H_
#define ANNALS_SERVICES_RPC_UNARY_REACTOR_H_

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/rpc_status.h"

namespace annals::services {

// Finishes the call with `result`: its value is moved into `response` when
// OK; its status is converted once (rpc::ToGrpcStatus, details kept).
template <typename Response>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     absl::StatusOr<Response> result,
                                     Response* response) {
  if (result.ok()) response->Swap(&*result);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(rpc::ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RPC_UNARY_REACTOR_H_
