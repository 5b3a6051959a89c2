// The annals.v1.Admin gRPC service (proto/annals/v1/query.proto): thin
// adapters over storage::EventLog::RebuildProjections and TakeBackup
// (services/admin/backup.h). Every method is served raw (bytes in, bytes
// out) and parses its request through services/rpc, so that bytes that are
// not the request message get INVALID_ARGUMENT.
#ifndef ANNALS_SERVICES_ADMIN_SERVICE_H_
#define ANNALS_SERVICES_ADMIN_SERVICE_H_

#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/query.grpc.pb.h"
#include "services/audit/signer.h"
#include "services/auth/call_access.h"
#include "storage/event_log.h"

namespace annals::services {

// Work that runs on a thread of its own, one piece at a time. Thread-safe.
class SoloThread {
 public:
  SoloThread() = default;
  SoloThread(const SoloThread&) = delete;
  SoloThread& operator=(const SoloThread&) = delete;
  // Waits for the work in flight.
  ~SoloThread();

  // Runs `work` on a thread of its own, then `answer` with its result once
  // new work may start (so that whoever hears the answer can start more at
  // once), unless earlier work still runs: then returns false and drops
  // both.
  template <typename Result>
  bool Start(absl::AnyInvocable<Result() &&> work,
             absl::AnyInvocable<void(Result) &&> answer) {
    return Run([work = std::move(work), answer = std::move(answer)]() mutable
               -> absl::AnyInvocable<void() &&> {
      return
          [result = std::move(work)(), answer = std::move(answer)]() mutable {
            std::move(answer)(std::move(result));
          };
    });
  }

 private:
  // Runs `work` on the thread, then what it returns once the thread is
  // free again; false when it is not free.
  bool Run(absl::AnyInvocable<absl::AnyInvocable<void() &&>() &&> work)
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

class AdminService final
    : public v1::Admin::WithRawCallbackMethod_RebuildProjections<
          v1::Admin::WithRawCallbackMethod_CreateBackup<v1::Admin::Service>> {
 public:
  // `log`, `signer` (which signs the tree heads of backups) and `access`
  // must outlive the service; `access` checks every call first.
  AdminService(storage::EventLog* log, const TreeHeadSigner* signer,
               const auth::CallAccess* access)
      : log_(log), signer_(signer), access_(access) {}

  // Each runs on a thread of its own: a rebuild holds the writer for as
  // long as it takes, and a backup copies the whole log, which must not
  // tie up a gRPC thread. One of each at a time: ABORTED while another
  // runs.
  grpc::ServerUnaryReactor* RebuildProjections(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

 private:
  storage::EventLog* const log_;
  const TreeHeadSigner* const signer_;
  const auth::CallAccess* const access_;
  // Declared last: destroyed first, waiting for the work in flight.
  SoloThread rebuild_;
  SoloThread backup_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_ADMIN_SERVICE_H_
