// What a process and a thread have used, read from the kernel: for the
// scenarios that report annalsd's CPU and memory next to their own
// (annals-bench --server-pid).
#ifndef ANNALS_CLIENTS_BENCH_PROCESS_STATS_H_
#define ANNALS_CLIENTS_BENCH_PROCESS_STATS_H_

#include <pthread.h>
#include <sys/types.h>

#include <cstdint>

namespace annals::bench {

// User plus system CPU seconds of process `pid` (/proc/PID/stat); -1 when
// it cannot be read.
double ProcessCpuSeconds(pid_t pid);

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
