// What the process and its data directory's file system look like now,
// from /proc and statvfs (Linux).
#ifndef ANNALS_SERVICES_METRICS_PROCESS_FIGURES_H_
#define ANNALS_SERVICES_METRICS_PROCESS_FIGURES_H_

#include <cstdint>
#include <string>

namespace annals::metrics {

struct ProcessFigures {
  double cpu_seconds = 0;          // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  uint64_t threads = 0;
  double start_time_seconds = 0;   // since the Unix epoch
};
// Zeros where /proc cannot be read.
ProcessFigures ReadProcessFigures();

struct DiskFigures {
  uint64_t size_bytes = 0;
  uint64_t available_bytes = 0;    // to an unprivileged process
};
// Zeros when `path` cannot be examined.
DiskFigures ReadDiskFigures(const std::string& path);

}  // namespace annals::metrics

#endif  // ANNALS_SERVICES_METRICS_PROCESS_FIGURES_H_
