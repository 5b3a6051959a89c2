// Slow calls in annalsd's log (annalsd --slow-request-ms): one line,
// event=slow_request, for every unary call that took at least a threshold
// from its arrival until its status was handed to gRPC, with its method,
// principal (auth::CallAccess::Describe), duration and status code.
//
// A gRPC server interceptor, so that every unary method of every service
// passes it (health checks included) without each handler's help.
// Streaming calls (subscriptions, append sessions, reflection) last as long
// as their clients want; they are left alone and cost nothing here.
#ifndef ANNALS_SERVICES_SERVER_SLOW_CALLS_H_
#define ANNALS_SERVICES_SERVER_SLOW_CALLS_H_

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "services/auth/call_access.h"

namespace annals::services {

// The interceptors' factory for ServerBuilder::experimental()
// .SetInterceptorCreators. `access` must outlive the server; a threshold
// of zero logs every unary call.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewSlowCallLogger(absl::Duration threshold, const auth::CallAccess* access);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_SLOW_CALLS_H_
