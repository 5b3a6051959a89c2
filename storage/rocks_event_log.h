// Extra ways to open the RocksDB event log (the usual one, OpenRocksEventLog,
// is declared in storage/event_log.h).
#ifndef ANNALS_STORAGE_ROCKS_EVENT_LOG_H_
#define ANNALS_STORAGE_ROCKS_EVENT_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/event_log.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace annals::storage {

// OpenRocksEventLog, with RocksDB doing all its I/O through `env` (e.g. one
// built with rocksdb::NewCompositeEnv over a fault-injecting FileSystem).
// `env` is not owned and must outlive the log; nullptr means the default.
absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLogWithEnv(
    const std::string& path, const LogOptions& options, rocksdb::Env* env);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_EVENT_LOG_H_
