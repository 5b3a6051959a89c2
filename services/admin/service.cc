#include "services/admin/service.h"

#include <pthread.h>

#include <utility>

#include "proto/rpc_status.h"
#include "services/admin/backup.h"
#include "services/rpc/unary_reactor.h"

namespace annals::services {
namespace {

v1::RebuildProjectionsResponse ToResponse(
    const storage::RebuildReport& report) {
  v1::RebuildProjectionsResponse response;
  response.set_events(report.events);
  response.set_keys(report.keys);
  response.set_missing(report.missing);
  response.set_unexpected(report.unexpected);
  response.set_different(report.different);
  response.set_first_difference(report.first_difference);
  response.set_matched(report.matched());
  response.set_repaired(report.repaired);
  return response;
}

}  // namespace

SoloThread::~SoloThread() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool SoloThread::Run(
    absl::AnyInvocable<absl::AnyInvocable<void() &&>() &&> work) {
  absl::MutexLock lock(&mu_);
  if (running_) return false;
  if (thread_.joinable()) thread_.join();  // done but for its answer
  running_ = true;
  thread_ = std::thread([this, work = std::move(work)]() mutable {
    absl::AnyInvocable<void()&&> then = std::move(work)();
    {
      absl::MutexLock lock(&mu_);
      running_ = false;
    }
    std::move(then)();
  });
  pthread_setname_np(thread_.native_handle(), "annals-admin");
  return true;
}

grpc::ServerUnaryReactor* AdminService::RebuildProjections(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  using Response = v1::RebuildProjectionsResponse;
  return ServeUnary<v1::RebuildProjectionsRequest, Response>(
      access_->Check(*context, "/annals.v1.Admin/RebuildProjections").status(),
      context, request, response,
      [this](const v1::RebuildProjectionsRequest& rebuild,
             Respond<Response> respond) {
        const bool repair = rebuild.repair();
        const bool started = rebuild_.Start<absl::StatusOr<Response>>(
            [this, repair]() -> absl::StatusOr<Response> {
              absl::StatusOr<storage::RebuildReport> report =
                  log_->RebuildProjections(repair);
              if (!report.ok()) return report.status();
              return ToResponse(*report);
            },
            respond);
        if (!started) {
          respond(absl::AbortedError(
              "a rebuild is already running; try again when it has finished"));
        }
      });
}

grpc::ServerUnaryReactor* AdminService::CreateBackup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  using Response = v1::CreateBackupResponse;
  return ServeUnary<v1::CreateBackupRequest, Response>(
      access_->Check(*context, "/annals.v1.Admin/CreateBackup").status(),
      context, request, response,
      [this](const v1::CreateBackupRequest& backup, Respond<Response> respond) {
        const bool started = backup_.Start<absl::StatusOr<Response>>(
            [this, backup] { return TakeBackup(log_, *signer_, backup); },
            respond);
        if (!started) {
          respond(absl::AbortedError(
              "a backup is already running; try again when it has finished"));
        }
      });
}

}  // namespace annals::services
