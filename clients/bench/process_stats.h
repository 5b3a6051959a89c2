// What a process, its descendants and a thread have used, read from the
// kernel: for the scenarios that report annalsd's CPU and memory next to
// their own (annals-bench --server-pid) and for CpuMeter's CPU per event
// of the servers a figure drives (--cpu-pids).
#ifndef ANNALS_CLIENTS_BENCH_PROCESS_STATS_H_
#define ANNALS_CLIENTS_BENCH_PROCESS_STATS_H_

#include <pthread.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace annals::bench {

// User plus system CPU seconds of process `pid` (/proc/PID/stat); -1 when
// it cannot be read.
double ProcessCpuSeconds(pid_t pid);

// User plus system CPU seconds of process `pid` and every descendant of it
// (found through the parent pids of /proc/*/stat), each with the CPU of
// its children that have ended and been waited for (cutime and cstime).
// That sum only grows while the tree runs: a descendant's seconds move to
// its parent's cutime/cstime when it ends, so the difference of two calls
// is what the tree used in between, also when processes started or ended
// in between (PostgreSQL's backends: one per connection, forked by the
// postmaster). -1 when `pid` itself cannot be read. A descendant that ends
// while the tree is being read may be missed in that call.
double ProcessTreeCpuSeconds(pid_t pid);

// One thread of a process: its id, its name (the comm of
// /proc/PID/task/TID/stat) and the user plus system CPU seconds it has used.
struct ThreadCpu {
  pid_t tid = 0;
  std::string name;
  double seconds = 0;
};

// Every thread of process `pid` as it is now; empty when the process
// cannot be read. A thread that ends while they are read may be missed.
std::vector<ThreadCpu> ThreadsCpu(pid_t pid);

// The resident set of process `pid` in KiB (VmRSS of /proc/PID/status);
// -1 when it cannot be read.
int64_t ProcessRssKib(pid_t pid);

// User plus system CPU seconds of this process, all its threads.
double SelfCpuSeconds();

// CPU seconds of `thread`, a running thread of this process; -1 when they
// cannot be read.
double ThreadCpuSeconds(pthread_t thread);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_PROCESS_STATS_H_
