// Every annals-bench scenario runs against the real annalsd with tiny sizes
// and prints its key=value line: what deploy/bench.sh parses.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kBench = ANNALS_BENCH_PATH;

// The value of `key` in a key=value line, or "" when absent.
std::string Value(const std::string& line, const std::string& key) {
  for (absl::string_view pair : absl::StrSplit(line, ' ')) {
    if (absl::StartsWith(pair, key + "=")) {
      return std::string(absl::StripSuffix(pair.substr(key.size() + 1), "\n"));
    }
  }
  return "";
}

double Number(const std::string& line, const std::string& key) {
  double value = -1;
  EXPECT_TRUE(absl::SimpleAtod(Value(line, key), &value))
      << key << " in " << line;
  return value;
}

class BenchScenariosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("bench_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(),
        {"--durability", "buffered", "--shutdown-grace", "5s"});
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = started.address;
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      testing::WaitExit(server_pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  // Runs annals-bench with `args`, expects success, returns its line.
  std::string Bench(std::vector<std::string> args) {
    args.insert(args.begin(), {kBench, "--server", server_});
    const RunResult run = RunProcess(args, dir_.string());
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_THAT(run.out, HasSubstr("errors=0")) << run.err;
    return run.out;
  }

  // A small generated log: 2,000 events over 200 dyads.
  void Generate() {
    const std::string line = Bench({"--scenario", "generate", "--events",
                                    "2000", "--batch", "250", "--seed", "5"});
    EXPECT_THAT(line, StartsWith("scenario=generate "));
    EXPECT_EQ(Value(line, "events"), "2000");
    EXPECT_GT(Number(line, "events_per_s"), 0);
    const double bytes = Number(line, "avg_event_bytes");
    EXPECT_GE(bytes, 400);
    EXPECT_LE(bytes, 800);
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  std::string server_;
};

TEST_F(BenchScenariosTest, HelpListsTheScenarios) {
  const RunResult help = RunProcess({kBench, "--help"}, dir_.string());
  for (const char* scenario :
       {"append", "append-session", "read", "generate", "catchup", "fanout",
        "get-relationship", "timeline"}) {
    EXPECT_THAT(help.out + help.err, HasSubstr(scenario));
  }
  const RunResult bad =
      RunProcess({kBench, "--server", server_, "--scenario", "nope"},
                 dir_.string());
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(BenchScenariosTest, GenerateTwiceWritesNothingNew) {
  Generate();
  Generate();  // same ids, same content: idempotent
  const std::string catchup = Bench({"--scenario", "catchup"});
  EXPECT_THAT(catchup, StartsWith("scenario=catchup "));
  EXPECT_EQ(Value(catchup, "events"), "2000");
  EXPECT_EQ(Value(catchup, "head"), "2000");
}

TEST_F(BenchScenariosTest, QueriesOverAGeneratedLog) {
  Generate();
  for (const char* as_of : {"none", "mixed"}) {
    const std::string line =
        Bench({"--scenario", "get-relationship", "--concurrency", "2",
               "--duration", "300ms", "--as-of", as_of});
    EXPECT_THAT(line, StartsWith("scenario=get-relationship "));
    EXPECT_GT(Number(line, "queries_per_s"), 0);
    EXPECT_GT(Number(line, "p99_ms"), 0);
    EXPECT_EQ(Value(line, "events_per_s"), "");
  }
  for (const char* filter : {"dyad", "kind", "range", "mixed"}) {
    const std::string line =
        Bench({"--scenario", "timeline", "--concurrency", "2", "--duration",
               "300ms", "--filter", filter});
    EXPECT_THAT(line, StartsWith("scenario=timeline "));
    EXPECT_GT(Number(line, "queries_per_s"), 0);
    EXPECT_GT(Number(line, "results_per_query"), 0) << filter;
  }
}

TEST_F(BenchScenariosTest, QueriesOnAnEmptyLogFail) {
  const RunResult run = RunProcess(
      {kBench, "--server", server_, "--scenario", "get-relationship"},
      dir_.string());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("generate"));
}

TEST_F(BenchScenariosTest, FanoutDeliversEveryEventToEverySubscriber) {
  const std::string line =
      Bench({"--scenario", "fanout", "--subscribers", "20", "--rate", "200",
             "--duration", "500ms", "--channels", "3"});
  EXPECT_THAT(line, StartsWith("scenario=fanout subscribers=20 "));
  EXPECT_EQ(Value(line, "events"), "100");
  EXPECT_EQ(Value(line, "deliveries"), "2000");
  EXPECT_GT(Number(line, "p99_ms"), 0);
}

TEST_F(BenchScenariosTest, AppendAtTheLimits) {
  // The largest batch annalsd accepts by default, and many concurrent calls.
  std::string line = Bench({"--scenario", "append", "--concurrency", "2",
                            "--batch", "1000", "--duration", "200ms"});
  EXPECT_THAT(line, StartsWith("scenario=append concurrency=2 batch=1000 "));
  line = Bench({"--scenario", "append", "--concurrency", "256", "--duration",
                "300ms"});
  EXPECT_THAT(line, StartsWith("scenario=append concurrency=256 batch=1 "));
  const std::string read = Bench({"--scenario", "read"});
  EXPECT_GT(Number(read, "events"), 2000);
}

TEST_F(BenchScenariosTest, AppendSessionPipelinesSingleEventsAndBatches) {
  std::string line =
      Bench({"--scenario", "append-session", "--concurrency", "8", "--window",
             "4", "--duration", "300ms"});
  EXPECT_THAT(line,
              StartsWith("scenario=append-session concurrency=8 batch=1 "
                         "window=4 "));
  const double events = Number(line, "events");
  EXPECT_GT(events, 0);
  EXPECT_EQ(Number(line, "calls"), events);  // one event per request
  EXPECT_GT(Number(line, "p99_ms"), 0);
  line = Bench({"--scenario", "append-session", "--concurrency", "2",
                "--batch", "100", "--duration", "200ms"});
  EXPECT_THAT(line, StartsWith("scenario=append-session concurrency=2 "
                               "batch=100 window=32 "));
  EXPECT_EQ(Number(line, "events"), 100 * Number(line, "calls"));
  const std::string read = Bench({"--scenario", "read"});
  EXPECT_EQ(Number(read, "events"), events + Number(line, "events"));
}

}  // namespace
}  // namespace annals
