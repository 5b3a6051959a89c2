#include "services/metrics/process_figures.h"

#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace annals::metrics {
namespace {

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The boot time from /proc/stat's "btime", in seconds since the epoch.
uint64_t BootTime() {
  for (absl::string_view line : absl::StrSplit(ReadAll("/proc/stat"), '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      uint64_t seconds = 0;
      if (absl::SimpleAtoi(line, &seconds)) return seconds;
    }
  }
  return 0;
}

}  // namespace

ProcessFigures ReadProcessFigures() {
  ProcessFigures figures;
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  // /proc/self/stat: the fields after the command's closing parenthesis
  // (the command may hold spaces) start with the state, field 3.
  const std::string stat = ReadAll("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos && ticks > 0) {
    const std::vector<absl::string_view> f =
        absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ',
                       absl::SkipEmpty());
    // f[0] is field 3: utime 14, stime 15, num_threads 20, starttime 22,
    // vsize 23, rss 24.
    uint64_t utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
    if (f.size() > 21 && absl::SimpleAtoi(f[11], &utime) &&
        absl::SimpleAtoi(f[12], &stime) && absl::SimpleAtoi(f[17], &threads) &&
        absl::SimpleAtoi(f[19], &start) && absl::SimpleAtoi(f[20], &vsize) &&
        absl::SimpleAtoi(f[21], &rss)) {
      figures.cpu_seconds = static_cast<double>(utime + stime) / ticks;
      figures.threads = threads;
      figures.start_time_seconds =
          static_cast<double>(BootTime()) + static_cast<double>(start) / ticks;
      figures.virtual_bytes = vsize;
      figures.resident_bytes = rss * static_cast<uint64_t>(page);
    }
  }
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    ++figures.open_fds;
  }
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) figures.max_fds = limit.rlim_cur;
  return figures;
}

DiskFigures ReadDiskFigures(const std::string& path) {
  DiskFigures figures;
  struct statvfs fs;
  if (statvfs(path.c_str(), &fs) == 0) {
    figures.size_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
    figures.available_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  return figures;
}

}  // namespace annals::metrics
