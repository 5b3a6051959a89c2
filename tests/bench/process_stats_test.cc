#include "clients/bench/process_stats.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace annals::bench {
namespace {

// A child that uses `seconds` of CPU, says so on pipe `done`, then waits
// for pipe `go` to close before it ends.
pid_t SpinningChild(double seconds, const int done[2], const int go[2]) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  close(done[0]);
  close(go[1]);
  const double until = SelfCpuSeconds() + seconds;
  volatile uint64_t spin = 0;
  while (SelfCpuSeconds() < until) spin = spin + 1;
  char byte = 1;
  if (write(done[1], &byte, 1) != 1) _exit(1);
  while (read(go[0], &byte, 1) > 0) {
  }
  _exit(0);
}

TEST(ProcessStatsTest, TreeCountsADescendantWhileItRunsAndAfterItEnded) {
  int done[2], go[2];
  ASSERT_EQ(pipe(done), 0);
  ASSERT_EQ(pipe(go), 0);
  const double before = ProcessTreeCpuSeconds(getpid());
  ASSERT_GE(before, 0);
  const pid_t child = SpinningChild(0.1, done, go);
  ASSERT_GT(child, 0);
  close(done[1]);
  close(go[0]);
  char byte = 0;
  ASSERT_EQ(read(done[0], &byte, 1), 1);

  // Running: its own utime and stime, found through its parent pid. This
  // process waited meanwhile, so the tree's growth is the child's.
  const double running = ProcessTreeCpuSeconds(getpid());
  EXPECT_GE(running - before, 0.09);
  EXPECT_GE(ProcessTreeCpuSeconds(child), 0.09);

  // Ended and waited for: in this process's cutime and cstime.
  close(go[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_GE(ProcessTreeCpuSeconds(getpid()), running);
  close(done[0]);
}

TEST(ProcessStatsTest, TreeOfAProcessThatIsNotThereIsMinusOne) {
  EXPECT_EQ(ProcessTreeCpuSeconds(999999999), -1);
  EXPECT_EQ(ProcessCpuSeconds(999999999), -1);
  EXPECT_TRUE(ThreadsCpu(999999999).empty());
}

TEST(ProcessStatsTest, ThreadsCarryTheirNamesAndTheirOwnCpu) {
  std::thread spinner([] {
    pthread_setname_np(pthread_self(), "spinner (a b)");
    const double until = ThreadCpuSeconds(pthread_self()) + 0.05;
    volatile uint64_t spin = 0;
    while (ThreadCpuSeconds(pthread_self()) < until) spin = spin + 1;
    const std::vector<ThreadCpu> threads = ThreadsCpu(getpid());
    bool found = false;
    for (const ThreadCpu& t : threads) {
      if (t.name != "spinner (a b)") continue;
      found = true;
      EXPECT_EQ(t.tid, gettid());
      EXPECT_GE(t.seconds, 0.04);  // clock ticks: 10 ms each
    }
    EXPECT_TRUE(found);
    EXPECT_GE(threads.size(), 2u);  // and the test's main thread
  });
  spinner.join();
}

}  // namespace
}  // namespace annals::bench
