// While the log's writes pause, the level 0 of the families of
// kMergedAtRest (rocks_options.h) is merged as RocksDB merges it by
// default, a few tables at a time, instead of the sixteen that appends are
// given (rocks_options.cc): appends still rewrite each family's base level
// a quarter as often, and a log at rest keeps few level-0 tables for reads
// to seek in. RocksDB does the merging; this only moves the trigger
// (SetOptions) between the two.
// Private to storage/rocks_*.cc.
#ifndef ANNALS_STORAGE_ROCKS_IDLE_MERGE_H_
#define ANNALS_STORAGE_ROCKS_IDLE_MERGE_H_

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"

namespace annals::storage {

class IdleLevel0Merge {
 public:
  // Watches `progress` (it grows with every write), every `idle` or every
  // second, whichever is shorter. Once it has not moved for `idle` (> 0),
  // sets the level-0 trigger of each of `families` to `idle_tables`; once
  // it moves again, back to `busy_tables`. `db` and `families` must
  // outlive this.
  IdleLevel0Merge(rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*> families,
                  std::function<uint64_t()> progress, absl::Duration idle,
                  int busy_tables, int idle_tables);
  // Stops within one poll.
  ~IdleLevel0Merge();

  IdleLevel0Merge(const IdleLevel0Merge&) = delete;
  IdleLevel0Merge& operator=(const IdleLevel0Merge&) = delete;

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Sets each family's trigger; a failure (a failed database) is logged,
  // and the next change tries again.
  void SetTrigger(int tables);

  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> families_;
  const std::function<uint64_t()> progress_;
  const absl::Duration idle_;
  const int busy_tables_;
  const int idle_tables_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_IDLE_MERGE_H_
