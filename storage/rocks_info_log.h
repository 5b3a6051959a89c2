// RocksDB's informational log (the LOG file in the data directory), written
// by annals instead of RocksDB's own file logger. Its warnings and errors
// also go to annalsd's log (log/log.h), as event=rocksdb.
//
// Why by hand: Debian's RocksDB is built with assertions, and its file
// logger asserts (aborting annalsd) when it writes again after a write
// failed, which is what happens to every log line once the disk is full.
// This logger drops the lines it cannot write and goes on, so that a full
// disk stops appends (which then resume) instead of the process.
#ifndef ANNALS_STORAGE_ROCKS_INFO_LOG_H_
#define ANNALS_STORAGE_ROCKS_INFO_LOG_H_

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"

namespace annals::storage {

class InfoLog final : public rocksdb::Logger {
 public:
  // Appends to `dir`/LOG (creating `dir` when missing). When LOG passes
  // `max_bytes` it becomes LOG.old (replacing the previous one) and a new
  // LOG is started. UNAVAILABLE naming the file when it cannot be opened.
  static absl::StatusOr<std::shared_ptr<InfoLog>> Open(const std::string& dir,
                                                       uint64_t max_bytes);

  ~InfoLog() override;

  // One line: time, thread, the formatted message. Thread-safe; a line
  // that cannot be written is dropped.
  void Logv(const char* format, va_list ap) override;
  // As RocksDB's Logger does (levels below GetInfoLogLevel() dropped,
  // others but INFO and HEADER prefixed "[WARN] " and so on), and a
  // warning, error or fatal error is also written to annalsd's log.
  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override;

 private:
  InfoLog(std::string path, int fd, uint64_t size, uint64_t max_bytes);
  // Appends `message` to LOG as one line.
  void WriteLine(absl::string_view message) ABSL_LOCKS_EXCLUDED(mu_);
  // Renames LOG to LOG.old and opens a new LOG; keeps the old one open
  // when that fails.
  void Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const uint64_t max_bytes_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  uint64_t size_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_INFO_LOG_H_
