// Every annals-bench scenario runs against the real annalsd with tiny sizes
// and prints its key=value line: what deploy/bench.sh parses.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kBench = ANNALS_BENCH_PATH;
const std::string kAnnals = ANNALS_PATH;

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
    const std::string http_port_file = (dir_ / "http_port").string();
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(),
        {"--durability", "buffered", "--shutdown-grace", "5s",
         "--http-listen", "127.0.0.1:0", "--http-port-file", http_port_file});
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = started.address;
    // Written before the gRPC port, which StartAnnalsd waited for.
    std::ifstream port(http_port_file);
    std::string http_port;
    ASSERT_TRUE(std::getline(port, http_port));
    http_server_ = absl::StrCat("127.0.0.1:", http_port);
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
  std::string http_server_;  // annalsd's HTTP gateway
};

TEST_F(BenchScenariosTest, HelpListsTheScenarios) {
  const RunResult help = RunProcess({kBench, "--help"}, dir_.string());
  for (const char* scenario :
       {"append", "append-session", "read", "generate", "catchup", "fanout",
        "get-relationship", "timeline", "http-get-relationship",
        "sse-fanout"}) {
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
  for (const char* filter : {"dyad", "actor", "kind", "range", "mixed"}) {
    const std::string line =
        Bench({"--scenario", "timeline", "--concurrency", "2", "--duration",
               "300ms", "--filter", filter});
    EXPECT_THAT(line, StartsWith("scenario=timeline "));
    EXPECT_GT(Number(line, "queries_per_s"), 0);
    EXPECT_GT(Number(line, "results_per_query"), 0) << filter;
  }
}

TEST_F(BenchScenariosTest, GetRelationshipOverHttpAsksWhatGrpcAsks) {
  Generate();
  for (const char* as_of : {"none", "mixed"}) {
    const std::vector<std::string> flags = {
        "--concurrency", "2", "--duration", "300ms", "--warmup", "100ms",
        "--as-of", as_of, "--server-pid", std::to_string(server_pid_)};
    std::vector<std::string> grpc = {"--scenario", "get-relationship"};
    grpc.insert(grpc.end(), flags.begin(), flags.end());
    std::vector<std::string> http = {"--scenario", "http-get-relationship",
                                     "--http-server", http_server_};
    http.insert(http.end(), flags.begin(), flags.end());
    const std::string grpc_line = Bench(grpc);
    const std::string http_line = Bench(http);
    EXPECT_THAT(http_line, StartsWith(absl::StrCat(
                               "scenario=http-get-relationship as_of=", as_of,
                               " dyads=", Value(grpc_line, "dyads"), " ")));
    EXPECT_GT(Number(http_line, "queries_per_s"), 0);
    EXPECT_GT(Number(http_line, "p99_ms"), 0);
    EXPECT_GT(Number(http_line, "response_bytes"), 100);  // JSON states
    for (const std::string& line : {grpc_line, http_line}) {
      EXPECT_GE(Number(line, "server_cpu_us_per_query"), 0) << line;
      EXPECT_GT(Number(line, "client_cpu_us_per_query"), 0) << line;
    }
  }
}

TEST_F(BenchScenariosTest, GetRelationshipOfOneDyadOverBothTransports) {
  Generate();
  const RunResult listed =
      RunProcess({kAnnals, "--server", server_, "--json", "relationships",
                  "--limit", "1"},
                 dir_.string());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  // The first "dyad": "AAA-BBB" of the JSON.
  const size_t key = listed.out.find("\"dyad\"");
  ASSERT_NE(key, std::string::npos) << listed.out;
  const size_t open = listed.out.find('"', listed.out.find(':', key));
  const size_t close = listed.out.find('"', open + 1);
  ASSERT_NE(close, std::string::npos) << listed.out;
  const std::string dyad = listed.out.substr(open + 1, close - open - 1);
  ASSERT_THAT(dyad, ::testing::MatchesRegex("[A-Z]+-[A-Z]+")) << listed.out;
  for (const char* scenario : {"get-relationship", "http-get-relationship"}) {
    const std::string line =
        Bench({"--scenario", scenario, "--http-server", http_server_,
               "--dyad", dyad, "--concurrency", "1", "--duration", "200ms"});
    EXPECT_EQ(Value(line, "dyad"), dyad) << line;
    EXPECT_EQ(Value(line, "dyads"), "1") << line;
    EXPECT_GT(Number(line, "queries_per_s"), 0) << line;
  }
  // A dyad that is not two known actors fails both, before measuring.
  for (const char* scenario : {"get-relationship", "http-get-relationship"}) {
    const RunResult run =
        RunProcess({kBench, "--server", server_, "--http-server", http_server_,
                    "--scenario", scenario, "--dyad", "ZZZ-ZZY"},
                   dir_.string());
    EXPECT_NE(run.exit_code, 0) << scenario;
    EXPECT_THAT(run.out, Not(HasSubstr("queries_per_s"))) << scenario;
  }
}

TEST_F(BenchScenariosTest, HttpScenariosWantTheGateway) {
  for (const char* scenario : {"http-get-relationship", "sse-fanout"}) {
    const RunResult run = RunProcess(
        {kBench, "--server", server_, "--scenario", scenario}, dir_.string());
    EXPECT_EQ(run.exit_code, 2) << scenario;
    EXPECT_THAT(run.err, HasSubstr("--http-server")) << scenario;
  }
}

TEST_F(BenchScenariosTest, SseFanoutDeliversEveryEventToEveryStream) {
  const std::string line =
      Bench({"--scenario", "sse-fanout", "--http-server", http_server_,
             "--subscribers", "20", "--rate", "200", "--duration", "500ms",
             "--server-pid", std::to_string(server_pid_)});
  EXPECT_THAT(line, StartsWith("scenario=sse-fanout subscribers=20 "));
  EXPECT_EQ(Value(line, "events"), "100");
  EXPECT_EQ(Value(line, "deliveries"), "2000");
  EXPECT_EQ(Value(line, "missed"), "0");
  EXPECT_EQ(Value(line, "duplicated"), "0");
  EXPECT_GT(Number(line, "p99_ms"), 0);
  EXPECT_GE(Number(line, "max_ms"), Number(line, "p99_ms"));
  EXPECT_GT(Number(line, "server_rss_mib_open"), 0);
  EXPECT_GT(Number(line, "stream_threads_cpu_s"), 0);
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

// A cluster's flags with one annalsd named twice: the channels alternate
// between the two "replicas", and its CPU per event is reported.
TEST_F(BenchScenariosTest, SpreadsOverReplicasAndReportsTheirCpu) {
  const std::string replicas = absl::StrCat(server_, ",", server_);
  const std::string cpu = absl::StrCat("annalsd=", server_pid_);
  std::string line = Bench({"--scenario", "append-session", "--concurrency",
                            "4", "--window", "4", "--duration", "300ms",
                            "--replicas", replicas, "--cpu-pids", cpu});
  EXPECT_THAT(line, StartsWith("scenario=append-session concurrency=4 "
                               "batch=1 window=4 replicas=2 "));
  EXPECT_GT(Number(line, "cpu_us.client"), 0);
  EXPECT_GT(Number(line, "cpu_us.annalsd"), 0);
  line = Bench({"--scenario", "fanout", "--subscribers", "10", "--rate", "200",
                "--duration", "300ms", "--channels", "4", "--replicas",
                replicas, "--cpu-pids", cpu});
  EXPECT_EQ(Value(line, "deliveries"), "600");
  EXPECT_EQ(Value(line, "replicas"), "2");
  EXPECT_GT(Number(line, "cpu_us.annalsd"), 0);
  const RunResult bad =
      RunProcess({kBench, "--server", server_, "--scenario", "append-session",
                  "--cpu-pids", "annalsd"},
                 dir_.string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("LABEL=PID"));
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

// deploy/bench.sh's figures: unary appends with annalsd's CPU per event
// next to the client's.
TEST_F(BenchScenariosTest, AppendReportsTheServersCpuPerEvent) {
  const std::string line =
      Bench({"--scenario", "append", "--concurrency", "4", "--duration",
             "300ms", "--cpu-pids", absl::StrCat("annalsd=", server_pid_)});
  EXPECT_THAT(line, StartsWith("scenario=append concurrency=4 batch=1 "));
  EXPECT_GT(Number(line, "cpu_us.client"), 0);
  EXPECT_GT(Number(line, "cpu_us.annalsd"), 0);
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

// A warm-up appends before the measured run, and is not counted in it.
TEST_F(BenchScenariosTest, AppendSessionWarmsUpUnmeasured) {
  const std::string line =
      Bench({"--scenario", "append-session", "--concurrency", "4", "--window",
             "4", "--warmup", "300ms", "--duration", "300ms", "--cpu-pids",
             absl::StrCat("annalsd=", server_pid_)});
  EXPECT_EQ(Value(line, "warmup_s"), "0.3");
  const double measured = Number(line, "events");
  EXPECT_GT(measured, 0);
  EXPECT_LT(Number(line, "seconds"), 0.6);
  EXPECT_GT(Number(line, "cpu_us.annalsd"), 0);
  const std::string read = Bench({"--scenario", "read"});
  EXPECT_GT(Number(read, "events"), measured);
}

}  // namespace
}  // namespace annals
