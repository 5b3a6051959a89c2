// The CPU that this process and a few others (annalsd and its replicas,
// NATS servers, the PostgreSQL and Redis servers) use over a measured
// interval, per unit of work: what lets a figure measured with every
// process on one machine be read per process (annals-bench,
// annals-bench-jetstream, annals-bench-postgres and annals-bench-redis
// --cpu-pids).
//
// Each process is measured with all its descendants
// (ProcessTreeCpuSeconds): a PostgreSQL server is its postmaster's tree
// (one backend per connection, the WAL writer, the checkpointer, ...);
// annalsd, nats-server and redis-server have no children but those a
// server forks for its own work (Redis's AOF rewrite), which count too.
// Connect before Start: a process that starts during the interval counts
// whole, which is right for one forked by the server during it, not for a
// backend whose connection set-up the figure means to leave out.
//
//   CpuMeter meter;  // from "annalsd1=PID,nats1=PID"
//   meter.Start();
//   ... the measured part ...
//   std::cout << meter.Report(events);
//   // " cpu_us.client=.. cpu_us.annalsd1=.. cpu_threads.annalsd1=.."
#ifndef ANNALS_CLIENTS_BENCH_CPU_METER_H_
#define ANNALS_CLIENTS_BENCH_CPU_METER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::bench {

class CpuMeter {
 public:
  // "LABEL=PID,LABEL=PID,..." (may be empty: only this process). Labels are
  // [A-Za-z0-9_-]+ and not "client". INVALID_ARGUMENT naming what is wrong.
  static absl::StatusOr<CpuMeter> Parse(absl::string_view spec);

  // Takes the CPU seconds every process (with its descendants) has used so
  // far.
  void Start();

  // " cpu_us.client=X cpu_us.LABEL=Y ..." in the order given: microseconds
  // of CPU (user plus system) each used since Start, divided by `units`
  // (events, say). "cpu_us.LABEL=?" for a process that can no longer be
  // read. Then, per process that can, its own threads' share of that (not
  // its descendants'), by thread name:
  // " cpu_threads.LABEL=NAME:US,NAME:US,..." the most first, names under
  // 0.05 left out, characters other than letters, digits, '_' and '-'
  // made '_' ("rocksdb_high"). A thread that started since Start counts
  // whole, one that ended since is missing.
  std::string Report(double units) const;

 private:
  std::vector<std::pair<std::string, pid_t>> processes_;
  double client_start_ = 0;
  std::vector<double> start_;
  // Per process, each thread's CPU seconds at Start, by thread id.
  std::vector<absl::flat_hash_map<pid_t, double>> thread_start_;
};

// A driver's --cpu-pids `spec` as a meter (CpuMeter::Parse); nullopt after
// saying why on stderr, after "`program`: ".
std::optional<CpuMeter> CpuMeterOf(absl::string_view program,
                                   absl::string_view spec);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_CPU_METER_H_
