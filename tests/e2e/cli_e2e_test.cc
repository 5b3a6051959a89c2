// End-to-end: the real annalsd on a free port with a temporary data
// directory, driven by the real annals CLI, as a user would.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "annals/v1/event.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kBench = ANNALS_BENCH_PATH;
const std::string kExamples = EXAMPLES_DIR;

class CliEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    StartServer();
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      testing::WaitExit(server_pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd on port 0 over dir_/data and waits for its port file.
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> flags = {"--shutdown-grace", "5s"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    const testing::StartedServer started =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), flags);
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = started.address;
  }

  // Sends `signal` to annalsd and returns its exit code.
  int StopServer(int signal) {
    kill(server_pid_, signal);
    const int code = testing::WaitExit(server_pid_);
    server_pid_ = -1;
    return code;
  }

  RunResult Annals(std::vector<std::string> args,
                   const std::string& stdin_path = "") {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string(), stdin_path);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  std::string server_;
};

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST_F(CliEndToEndTest, HealthReportsServing) {
  RunResult health = Annals({"health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");
}

TEST_F(CliEndToEndTest, AppendReadGetRoundTrip) {
  const std::string examples = kExamples + "/events.jsonl";
  const size_t count = Lines(testing::ReadFileOrEmpty(examples)).size();
  ASSERT_GE(count, 2u);

  // The examples span several dyads, so each goes to its own stream.
  for (const std::string& line : Lines(testing::ReadFileOrEmpty(examples))) {
    RunResult append = Annals({"append", "-"}, WriteFile("one.json", line));
    ASSERT_EQ(append.exit_code, 0) << append.err;
    EXPECT_THAT(append.out, StartsWith("appended 1 event to "));
  }

  RunResult all = Annals({"--json", "read", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> lines = Lines(all.out);
  ASSERT_EQ(lines.size(), count);
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::RecordedEvent recorded;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &recorded).ok())
        << lines[i];
    EXPECT_EQ(recorded.position(), i + 1);
  }

  RunResult backward = Annals({"read", "--all", "--backward", "--limit", "1"});
  ASSERT_EQ(backward.exit_code, 0) << backward.err;
  EXPECT_THAT(backward.out, StartsWith(absl::StrCat("#", count, " ")));

  RunResult get = Annals({"get", "jpn-prk-2019-03-12-chimura-urges-direct-talks"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, HasSubstr("stream:         JPN-PRK"));
  EXPECT_THAT(get.out, HasSubstr("Yasushi Chimura"));

  RunResult stream = Annals({"--json", "read", "--stream", "JPN-PRK"});
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  EXPECT_THAT(stream.out, HasSubstr("jpn-prk-2019-03-12-chimura-urges-direct-talks"));
}

TEST_F(CliEndToEndTest, BatchAppendIsOneAtomicAppendAndRetryIsIdempotent) {
  const std::string file = kExamples + "/events.jsonl";
  const size_t count = Lines(testing::ReadFileOrEmpty(file)).size();
  // One atomic append takes consecutive positions: printed as a range.
  const std::string expected_positions = absl::StrCat("1–", count);

  RunResult first = Annals({"append", "--stream", "examples", file});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, absl::StrCat("appended ", count, " events to examples: positions ",
                                    expected_positions, " (stream version ", count, ")\n"));

  RunResult retry = Annals({"append", "--stream", "examples", file});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(retry.out, absl::StrCat("already recorded: ", count, " events to examples: positions ",
                                    expected_positions, " (stream version ", count, ")\n"));
}

TEST_F(CliEndToEndTest, ImportTwiceChangesNothing) {
  const std::string file = kExamples + "/events.jsonl";
  const size_t count = Lines(testing::ReadFileOrEmpty(file)).size();
  RunResult first = Annals({"import", file});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, absl::StrCat("imported ", count,
                                    " new events, 0 already recorded, from ",
                                    file, "\n"));
  RunResult second = Annals({"import", file});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, absl::StrCat("imported 0 new events, ", count,
                                     " already recorded, from ", file, "\n"));
  RunResult all = Annals({"read", "--all"});
  EXPECT_EQ(Lines(all.out).size(), count);
}

TEST_F(CliEndToEndTest, WrongExpectedVersionFailsWithOneLine) {
  const std::string file = kExamples + "/secret_talks_2001_2002.json";
  ASSERT_EQ(Annals({"append", "--expect", "none", file}).exit_code, 0);

  std::string other = testing::ReadFileOrEmpty(file);
  const std::string old_id = "jpn-prk-2001-2002-secret-talks";
  other.replace(other.find(old_id), old_id.size(), "another-id");
  RunResult conflict =
      Annals({"append", "--expect", "none", WriteFile("other.json", other)});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_THAT(conflict.err, StartsWith("FAILED_PRECONDITION: "));
  EXPECT_THAT(conflict.err, HasSubstr("version 1"));
  EXPECT_EQ(Lines(conflict.err).size(), 1u);

  RunResult exact = Annals({"append", "--expect", "1", WriteFile("o2.json", other)});
  EXPECT_EQ(exact.exit_code, 0) << exact.err;
}

TEST_F(CliEndToEndTest, InvalidEventNamesTheFieldAndWritesNothing) {
  std::string event = testing::ReadFileOrEmpty(kExamples + "/secret_talks_2001_2002.json");
  event.replace(event.find("\"PRK\""), 5, "\"XYZ\"");
  RunResult bad = Annals({"append", WriteFile("bad.json", event)});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, StartsWith("INVALID_ARGUMENT: "));
  EXPECT_THAT(bad.err, HasSubstr("events[0].target[0]"));

  RunResult all = Annals({"read", "--all"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_EQ(all.out, "no events\n");
}

TEST_F(CliEndToEndTest, MalformedJsonIsAUsageErrorNamingTheLine) {
  RunResult bad = Annals({"append", WriteFile("bad.jsonl", "{\"id\": \"x\",\n  \"nosuchfield\": 1}\n")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 1"));
  RunResult unknown = Annals({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command"));
}

TEST_F(CliEndToEndTest, GetOfUnknownIdIsNotFound) {
  RunResult get = Annals({"get", "no-such-event"});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_THAT(get.err, StartsWith("NOT_FOUND: "));
}

TEST_F(CliEndToEndTest, GracefulShutdownAndRestartKeepEverything) {
  const std::string file = kExamples + "/secret_talks_2001_2002.json";
  ASSERT_EQ(Annals({"append", file}).exit_code, 0);
  EXPECT_EQ(StopServer(SIGTERM), 0);
  EXPECT_THAT(testing::ReadFileOrEmpty((dir_ / "annalsd.log").string()),
              HasSubstr("INFO event=stopped"));

  StartServer({"--verify-on-start"});
  RunResult get = Annals({"--json", "get", "jpn-prk-2001-2002-secret-talks"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, HasSubstr("\"position\":\"1\""));
}

TEST_F(CliEndToEndTest, AcknowledgedAppendSurvivesKill9) {
  const std::string examples = kExamples + "/events.jsonl";
  for (const std::string& line : Lines(testing::ReadFileOrEmpty(examples))) {
    RunResult append = Annals({"--json", "append", WriteFile("e.json", line)});
    ASSERT_EQ(append.exit_code, 0) << append.err;
  }
  StopServer(SIGKILL);
  StartServer();
  RunResult all = Annals({"read", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(Lines(all.out).size(), Lines(testing::ReadFileOrEmpty(examples)).size());
}

TEST_F(CliEndToEndTest, SecondServerOnTheSameDataDirRefusesToStart) {
  RunResult second = RunProcess({kAnnalsd, "--listen", "127.0.0.1:0", "--data-dir",
                          (dir_ / "data").string()},
                         dir_.string());
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot open the event log"));
}

// A smoke run of the benchmark driver: it still works and reports numbers.
TEST_F(CliEndToEndTest, BenchmarkDriverRuns) {
  RunResult append = RunProcess({kBench, "--server", server_, "--concurrency", "4",
                                 "--batch", "2", "--duration", "300ms"},
                                dir_.string());
  ASSERT_EQ(append.exit_code, 0) << append.err;
  EXPECT_THAT(append.out, HasSubstr("scenario=append concurrency=4 batch=2"));
  EXPECT_THAT(append.out, HasSubstr("errors=0"));
  RunResult read = RunProcess({kBench, "--server", server_, "--scenario", "read"},
                              dir_.string());
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("scenario=read events="));
}

TEST_F(CliEndToEndTest, HelpDocumentsTheFlags) {
  RunResult help = RunProcess({kAnnalsd, "--help"}, dir_.string());
  EXPECT_THAT(help.out + help.err, HasSubstr("--data-dir"));
  EXPECT_THAT(help.out + help.err, HasSubstr("durability"));
  RunResult bad = RunProcess({kAnnalsd, "--durability", "sometimes"}, dir_.string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--durability"));
}

}  // namespace
}  // namespace annals
