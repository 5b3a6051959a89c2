// Crash safety: a child process appends with sync=true and acknowledges each
// event id on stdout after its Append returned OK; it is killed with SIGKILL
// at a random moment: in half of the rounds counted from its start (so that
// some kills land in opening and recovery), in the other half from its
// first acknowledgement (so that every run kills appends in flight, however
// slowly a loaded machine starts the child). Every acknowledged id must
// survive, positions must be gapless and the hash chain intact. Repeated on
// the same directory, so each round also recovers from the previous crash.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

extern char** environ;

namespace annals::storage {
namespace {

using ::annals::storage::testing::ScratchDir;
using ::annals::testing::IsOk;

constexpr int kRounds = 25;

struct ChildRun {
  std::string out;  // everything the child printed
  int wait_status = 0;
};

// Runs the crash child on `dir`, kills it `run_for` after it started or,
// with `after_first_ack`, after its first acknowledgement (failing the test
// when none comes within 60 s); returns its output.
ChildRun RunAndKill(const std::string& dir, const std::string& tag,
                    absl::Duration run_for, bool after_first_ack) {
  ChildRun run;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string path = CRASH_CHILD_PATH;
  std::vector<char*> argv = {path.data(), const_cast<char*>(dir.c_str()),
                             const_cast<char*>(tag.c_str()), nullptr};
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    ADD_FAILURE() << "posix_spawn " << path << " failed: " << spawned;
    return run;
  }
  // Drain the pipe while the child runs so that it never blocks on stdout.
  absl::Mutex mu;
  std::thread reader([&run, &mu, fd = fds[0]] {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
      absl::MutexLock lock(&mu);
      run.out.append(buf, n);
    }
    close(fd);
  });
  if (after_first_ack) {
    auto acknowledged = [&run] { return run.out.find('\n') != std::string::npos; };
    mu.LockWhenWithTimeout(absl::Condition(&acknowledged), absl::Seconds(60));
    const bool any = acknowledged();
    mu.Unlock();
    EXPECT_TRUE(any) << "the child acknowledged nothing within 60 s";
  }
  absl::SleepFor(run_for);
  kill(pid, SIGKILL);
  waitpid(pid, &run.wait_status, 0);
  reader.join();
  return run;
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkill) {
  ScratchDir scratch;
  const std::string dir = scratch.Sub("log");
  std::mt19937 rng(20020917);
  std::vector<std::string> acknowledged;  // over all rounds
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const absl::Duration run_for =
        absl::Milliseconds(std::uniform_int_distribution<int>(5, 200)(rng));
    ChildRun run = RunAndKill(dir, absl::StrCat("r", round), run_for,
                              /*after_first_ack=*/round % 2 == 0);
    ASSERT_TRUE(WIFSIGNALED(run.wait_status) &&
                WTERMSIG(run.wait_status) == SIGKILL)
        << "the child ended by itself (exit status "
        << (WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : -1)
        << ") instead of being killed";
    // Only complete lines count: a line is written after its append.
    for (absl::string_view line : absl::StrSplit(run.out, '\n')) {
      if (!line.empty()) acknowledged.emplace_back(line);
    }
    if (!run.out.empty() && run.out.back() != '\n') acknowledged.pop_back();

    auto opened = OpenRocksEventLog(dir, LogOptions());
    ASSERT_TRUE(opened.ok()) << opened.status();
    EventLog& log = **opened;
    for (const std::string& id : acknowledged) {
      ASSERT_THAT(log.GetEvent(id), IsOk()) << "acknowledged " << id << " lost";
    }
    // Gapless 1..head: ReadAll checks each position is the next one.
    const uint64_t head = log.GetHead().position;
    uint64_t next = 1;
    while (next <= head) {
      ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                                  log.ReadAll(next, Direction::kForward, 1000));
      ASSERT_FALSE(page.events.empty());
      for (const auto& e : page.events) ASSERT_EQ(e.position(), next++);
    }
    EXPECT_GE(head, acknowledged.size());
    ASSERT_THAT(log.VerifyChain(), IsOk());
  }
  // Every other round killed appends in flight.
  EXPECT_GT(acknowledged.size(), 0u);
  std::printf("%zu acknowledged appends survived %d kills\n",
              acknowledged.size(), kRounds);
}

}  // namespace
}  // namespace annals::storage
