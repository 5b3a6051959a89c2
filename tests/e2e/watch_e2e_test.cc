// End-to-end: `annals watch` and `annals watch-relationship` against the
// real annalsd, with events written by `annals append` while they run, and
// a server restart in the middle of a watch.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "annals/v1/subscription.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::Eventually;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kExamples = EXAMPLES_DIR;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class WatchEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("watch_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    StartServer("127.0.0.1:0");
  }

  void TearDown() override {
    for (pid_t pid : {watch_pid_, server_pid_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        testing::WaitExit(pid);
      }
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd on `listen` over dir_/data and waits for its port file.
  void StartServer(const std::string& listen) {
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(), {"--durability", "buffered"}, listen);
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    port_ = started.port;
    server_ = started.address;
  }

  int StopServer() {
    kill(server_pid_, SIGTERM);
    const int code = testing::WaitExit(server_pid_);
    server_pid_ = -1;
    return code;
  }

  RunResult Annals(std::vector<std::string> args,
                   const std::string& stdin_path = "") {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string(), stdin_path);
  }

  // Starts `annals ARGS` in the background; its output goes to
  // dir_/watch.out and dir_/watch.err.
  void StartWatch(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    watch_pid_ = testing::Spawn(args, "", (dir_ / "watch.out").string(),
                                (dir_ / "watch.err").string());
    ASSERT_GT(watch_pid_, 0);
  }
  std::string WatchOut() {
    return testing::ReadFileOrEmpty((dir_ / "watch.out").string());
  }
  std::string WatchErr() {
    return testing::ReadFileOrEmpty((dir_ / "watch.err").string());
  }
  // The watch's exit code, waiting for it to end by itself; -2 when it did
  // not, -1 when a signal ended it.
  int WaitWatch() {
    int status = 0;
    if (!Eventually([&] { return waitpid(watch_pid_, &status, WNOHANG) != 0; })) {
      return -2;
    }
    watch_pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Appends the i-th event of clients/examples/events.jsonl.
  void AppendExample(size_t i) {
    const std::vector<std::string> lines =
        Lines(testing::ReadFileOrEmpty(kExamples + "/events.jsonl"));
    ASSERT_LT(i, lines.size());
    const std::string path = (dir_ / "one.json").string();
    std::ofstream(path) << lines[i];
    RunResult append = Annals({"append", path});
    ASSERT_EQ(append.exit_code, 0) << append.err;
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  pid_t watch_pid_ = -1;
  std::string port_;
  std::string server_;
};

TEST_F(WatchEndToEndTest, WatchSeesAnEventAppendedAfterwards) {
  StartWatch({"watch", "--limit", "1"});
  // Subscribed (from now) once it says it caught up.
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(WatchErr(), "caught up"); }))
      << WatchErr();
  RunResult append =
      Annals({"append", kExamples + "/secret_talks_2001_2002.json"});
  ASSERT_EQ(append.exit_code, 0) << append.err;
  // --limit 1: it exits after printing the event.
  ASSERT_EQ(WaitWatch(), 0) << WatchErr();
  EXPECT_THAT(WatchOut(), HasSubstr("#1 JPN-PRK v1 2001..2002 meeting JPN>PRK "
                                    "jpn-prk-2001-2002-secret-talks"));
  EXPECT_EQ(Lines(WatchOut()).size(), 1u);
}

TEST_F(WatchEndToEndTest, WatchResumesAfterTheServerRestartsWithoutGapOrRepeat) {
  AppendExample(0);
  StartWatch({"--json", "watch", "--from", "start"});
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(WatchOut(), "caughtUp"); }))
      << WatchErr();

  // The server goes away and comes back on the same port; meanwhile an
  // event is appended that the watch has not seen.
  ASSERT_EQ(StopServer(), 0);
  StartServer(absl::StrCat("127.0.0.1:", port_));
  AppendExample(1);
  AppendExample(2);
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(WatchOut(), "\"position\":\"3\"");
  })) << WatchOut() << WatchErr();
  EXPECT_THAT(WatchErr(), HasSubstr("reconnecting"));

  // Events print as `read --json` prints them; the stream's notices are
  // objects of their own ({"caughtUp": ...}).
  std::vector<std::string> events;
  for (const std::string& line : Lines(WatchOut())) {
    if (absl::StartsWith(line, "{\"caughtUp\"") ||
        absl::StartsWith(line, "{\"fellBehind\"") ||
        absl::StartsWith(line, "{\"checkpoint\"")) {
      continue;
    }
    events.push_back(line);
  }
  RunResult read = Annals({"--json", "read", "--all"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(events, Lines(read.out));
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(WatchEndToEndTest, WatchRelationshipPrintsTheStateThenEachChange) {
  StartWatch({"watch-relationship", "JPN", "PRK"});
  ASSERT_TRUE(Eventually([&] { return !Lines(WatchOut()).empty(); }))
      << WatchErr();
  EXPECT_THAT(Lines(WatchOut())[0], HasSubstr("JPN-PRK at position 0: 0 events"));
  RunResult append =
      Annals({"append", kExamples + "/secret_talks_2001_2002.json"});
  ASSERT_EQ(append.exit_code, 0) << append.err;
  ASSERT_TRUE(Eventually([&] { return Lines(WatchOut()).size() >= 2; }))
      << WatchOut() << WatchErr();
  EXPECT_THAT(Lines(WatchOut())[1],
              HasSubstr("JPN-PRK at position 1: 1 events (meeting 1), last "
                        "2001..2002 meeting"));
}

TEST_F(WatchEndToEndTest, BadWatchArgumentsAreRefused) {
  RunResult bad_dyad = Annals({"watch", "--dyad", "JPN-XXX"});
  EXPECT_EQ(bad_dyad.exit_code, 1);
  EXPECT_THAT(bad_dyad.err, HasSubstr("filter.dyad"));
  RunResult bad_from = Annals({"watch", "--from", "soon"});
  EXPECT_EQ(bad_from.exit_code, 2);
  EXPECT_THAT(bad_from.err, HasSubstr("--from"));
  RunResult no_dyad = Annals({"watch-relationship"});
  EXPECT_EQ(no_dyad.exit_code, 2);
}

}  // namespace
}  // namespace annals
