// Extra ways to open the RocksDB event log (the usual one, OpenRocksEventLog,
// is declared in storage/event_log.h).
#ifndef ANNALS_STORAGE_ROCKS_EVENT_LOG_H_
#define ANNALS_STORAGE_ROCKS_EVENT_LOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "storage/event_log.h"

namespace annals::storage {

// The RocksDB options the event log opens its database with: DB options,
// and one descriptor per column family of storage/format.h (all sharing a
// block cache of options.block_cache_bytes), doing all I/O through `env`
// (nullptr: the default). For tools that must write exactly as the log
// does, such as the raw RocksDB benchmark.
struct RocksOptions {
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> column_families;
};
RocksOptions EventLogRocksOptions(const LogOptions& options,
                                  rocksdb::Env* env);

// OpenRocksEventLog, with RocksDB doing all its I/O through `env` (e.g. one
// built with rocksdb::NewCompositeEnv over a fault-injecting FileSystem).
// `env` is not owned and must outlive the log; nullptr means the default.
absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLogWithEnv(
    const std::string& path, const LogOptions& options, rocksdb::Env* env);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_EVENT_LOG_H_
