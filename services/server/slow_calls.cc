#include "services/server/slow_calls.h"

#include <chrono>

#include "absl/status/status.h"
#include "log/log.h"

namespace annals::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class SlowCallInterceptor final : public grpc::experimental::Interceptor {
 public:
  SlowCallInterceptor(grpc::experimental::ServerRpcInfo* info,
                      absl::Duration threshold, const auth::CallAccess* access)
      : info_(info), threshold_(threshold), access_(access) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const absl::Duration took =
          absl::FromChrono(std::chrono::steady_clock::now() - arrived_);
      if (took >= threshold_) {
        const grpc::Status status = methods->GetSendStatus();
        log::Warn(
            "slow_request",
            {{"method", info_->method()},
             {"principal", access_->Describe(*info_->server_context())},
             {"duration_ms", log::Milliseconds(took)},
             {"status", absl::StatusCodeToString(static_cast<absl::StatusCode>(
                            status.error_code()))}});
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const absl::Duration threshold_;
  const auth::CallAccess* const access_;
  const std::chrono::steady_clock::time_point arrived_ =
      std::chrono::steady_clock::now();
};

class SlowCallLogger final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  SlowCallLogger(absl::Duration threshold, const auth::CallAccess* access)
      : threshold_(threshold), access_(access) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
      return nullptr;
    }
    return new SlowCallInterceptor(info, threshold_, access_);
  }

 private:
  const absl::Duration threshold_;
  const auth::CallAccess* const access_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewSlowCallLogger(absl::Duration threshold, const auth::CallAccess* access) {
  return std::make_unique<SlowCallLogger>(threshold, access);
}

}  // namespace annals::services
