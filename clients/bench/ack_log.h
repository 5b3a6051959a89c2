// A file of every event annals-bench saw acknowledged, for checks that
// nothing acknowledged was lost (deploy/crash-loop.sh). One line per event,
// "ID POSITION", written and flushed to the operating system as each
// acknowledgement arrives, so that the file survives annals-bench being
// stopped at any point and names exactly what the server acknowledged.
#ifndef ANNALS_CLIENTS_BENCH_ACK_LOG_H_
#define ANNALS_CLIENTS_BENCH_ACK_LOG_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/event_log.pb.h"

namespace annals::bench {

class AckLog {
 public:
  // Opens `path` for appending; FAILED_PRECONDITION naming the path and the
  // system's reason when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<AckLog>> Open(const std::string& path);

  ~AckLog();
  AckLog(const AckLog&) = delete;
  AckLog& operator=(const AckLog&) = delete;

  // Records the events of `request` at the positions `response` gave them.
  // Thread-safe.
  void Record(const v1::AppendRequest& request,
              const v1::AppendResponse& response);

 private:
  explicit AckLog(std::FILE* file) : file_(file) {}

  absl::Mutex mu_;
  std::FILE* const file_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_ACK_LOG_H_
