#include "storage/rocks_info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "log/log.h"

namespace annals::storage {
namespace {

int OpenForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

// The message of a printf-style call, cut at 4 KiB.
std::string Format(const char* format, va_list ap) {
  char message[4096];
  const int n = std::vsnprintf(message, sizeof(message), format, ap);
  if (n < 0) return "";
  return std::string(message,
                     std::min(static_cast<size_t>(n), sizeof(message) - 1));
}

}  // namespace

absl::StatusOr<std::shared_ptr<InfoLog>> InfoLog::Open(const std::string& dir,
                                                       uint64_t max_bytes) {
  std::error_code ignored;  // a directory that cannot be made fails below
  std::filesystem::create_directories(dir, ignored);
  std::string path = absl::StrCat(dir, "/LOG");
  const int fd = OpenForAppend(path);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open RocksDB's log ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  const uint64_t size =
      ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return std::shared_ptr<InfoLog>(
      new InfoLog(std::move(path), fd, size, max_bytes));
}

InfoLog::InfoLog(std::string path, int fd, uint64_t size, uint64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes), fd_(fd), size_(size) {}

InfoLog::~InfoLog() {
  absl::MutexLock lock(&mu_);
  ::close(fd_);
}

void InfoLog::Logv(const char* format, va_list ap) {
  WriteLine(Format(format, ap));
}

void InfoLog::Logv(const rocksdb::InfoLogLevel level, const char* format,
                   va_list ap) {
  if (level < GetInfoLogLevel()) return;
  if (level < rocksdb::InfoLogLevel::WARN_LEVEL ||
      level >= rocksdb::InfoLogLevel::HEADER_LEVEL) {
    rocksdb::Logger::Logv(level, format, ap);
    return;
  }
  const std::string message = Format(format, ap);
  const bool warning = level == rocksdb::InfoLogLevel::WARN_LEVEL;
  const absl::string_view tag = warning ? "[WARN] "
                                : level == rocksdb::InfoLogLevel::ERROR_LEVEL
                                    ? "[ERROR] "
                                    : "[FATAL] ";
  WriteLine(absl::StrCat(tag, message));
  log::Write(warning ? log::Level::kWarning : log::Level::kError, "rocksdb",
             {{"message", absl::StripTrailingAsciiWhitespace(message)}});
}

void InfoLog::WriteLine(absl::string_view message) {
  std::string line = absl::StrCat(
      absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ", absl::Now(),
                       absl::LocalTimeZone()),
      std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000, " ",
      message);
  if (line.back() != '\n') line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (size_ + line.size() > max_bytes_) Rotate();
  // One write per line (O_APPEND); a short or failed write drops the line.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written > 0) size_ += static_cast<uint64_t>(written);
}

void InfoLog::Rotate() {
  const std::string old = absl::StrCat(path_, ".old");
  if (::rename(path_.c_str(), old.c_str()) != 0) return;
  const int fd = OpenForAppend(path_);
  if (fd < 0) return;  // keeps writing to the renamed file
  ::close(fd_);
  fd_ = fd;
  size_ = 0;
}

}  // namespace annals::storage
