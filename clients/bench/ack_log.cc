#include "clients/bench/ack_log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace annals::bench {

absl::StatusOr<std::unique_ptr<AckLog>> AckLog::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the acknowledgement log ", path, ": ",
        std::strerror(errno)));
  }
  return std::unique_ptr<AckLog>(new AckLog(file));
}

AckLog::~AckLog() {
  absl::MutexLock lock(&mu_);
  std::fclose(file_);
}

void AckLog::Record(const v1::AppendRequest& request,
                    const v1::AppendResponse& response) {
  std::string lines;
  const int n = std::min(request.events_size(), response.positions_size());
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&lines, request.events(i).id(), " ",
                    response.positions(i), "\n");
  }
  absl::MutexLock lock(&mu_);
  std::fwrite(lines.data(), 1, lines.size(), file_);
  std::fflush(file_);
}

}  // namespace annals::bench
