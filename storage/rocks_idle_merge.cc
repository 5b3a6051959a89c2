#include "storage/rocks_idle_merge.h"

#include <pthread.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace annals::storage {

IdleLevel0Merge::IdleLevel0Merge(
    rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> families,
    std::function<uint64_t()> progress, absl::Duration idle, int busy_tables,
    int idle_tables)
    : db_(db),
      families_(std::move(families)),
      progress_(std::move(progress)),
      idle_(idle),
      busy_tables_(busy_tables),
      idle_tables_(idle_tables),
      thread_([this] { Run(); }) {
  pthread_setname_np(thread_.native_handle(), "annals-l0merge");
}

IdleLevel0Merge::~IdleLevel0Merge() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void IdleLevel0Merge::Run() {
  const absl::Duration poll = std::min(idle_, absl::Seconds(1));
  uint64_t seen = progress_();
  absl::Time moved = absl::Now();
  bool idle = false;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), poll)) return;
    }
    const uint64_t now_at = progress_();
    const absl::Time now = absl::Now();
    if (now_at != seen) {
      seen = now_at;
      moved = now;
      if (idle) {
        SetTrigger(busy_tables_);
        idle = false;
      }
    } else if (!idle && now - moved >= idle_) {
      SetTrigger(idle_tables_);
      idle = true;
    }
  }
}

void IdleLevel0Merge::SetTrigger(int tables) {
  for (rocksdb::ColumnFamilyHandle* family : families_) {
    const rocksdb::Status status = db_->SetOptions(
        family,
        {{"level0_file_num_compaction_trigger", absl::StrCat(tables)}});
    if (!status.ok()) {
      annals::log::Warn("level0_trigger_not_set",
                        {{"family", family->GetName()},
                         {"tables", static_cast<int64_t>(tables)},
                         {"error", status.ToString()}});
    }
  }
}

}  // namespace annals::storage
