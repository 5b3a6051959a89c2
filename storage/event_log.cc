#include "storage/event_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace annals::storage {

std::string ExpectedVersion::ToString() const {
  switch (kind) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no_stream";
    case Kind::kStreamExists:
      return "stream_exists";
    case Kind::kExact:
      return absl::StrCat(version);
  }
  return "unknown";
}

absl::StatusOr<AppendResult> EventLog::Append(AppendBatch batch) {
  absl::Notification done;
  absl::StatusOr<AppendResult> result;
  AppendAsync(std::move(batch), [&](absl::StatusOr<AppendResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

}  // namespace annals::storage
