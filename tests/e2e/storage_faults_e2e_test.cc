// The real annalsd on damaged and failing storage: a WAL damaged before its
// tail is refused at start (nothing acknowledged may silently go missing);
// a full disk stops appends (health NOT_SERVING, no crash) until space is
// back, then they resume by themselves and nothing acknowledged is lost.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::HasSubstr;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kBench = ANNALS_BENCH_PATH;

class StorageFaultsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("storage_faults_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "data");
  }

  void TearDown() override {
    Stop(SIGKILL);
    if (mounted_) Run({"/bin/umount", (dir_ / "data").string()});
    std::filesystem::remove_all(dir_);
  }

  testing::RunResult Run(const std::vector<std::string>& argv) {
    return testing::RunProcess(argv, dir_.string());
  }

  std::string Start(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--durability", "sync"});
    const testing::StartedServer started =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), flags);
    pid_ = started.pid;
    error_ = started.error;
    return started.address;
  }

  void Stop(int signal) {
    if (pid_ > 0) {
      kill(pid_, signal);
      testing::WaitExit(pid_);
      pid_ = -1;
    }
  }

  // annals-bench's append scenario for `seconds`, its acknowledgements
  // appended to dir_/acks.
  void AppendFor(const std::string& server, int seconds) {
    Run({kBench, "--server", server, "--scenario", "append", "--concurrency",
         "4", "--batch", "20", "--duration", absl::StrCat(seconds, "s"),
         "--run-id", absl::StrCat("r", ++runs_), "--ack-log",
         (dir_ / "acks").string()});
  }

  std::string Health(const std::string& server) {
    return Run({kAnnals, "--server", server, "health"}).out;
  }

  // Every acknowledged event is in the log at the position acknowledged.
  void ExpectEveryAcknowledgedEvent(const std::string& server) {
    const testing::RunResult read =
        Run({kAnnals, "--server", server, "--json", "read", "--all"});
    ASSERT_EQ(read.exit_code, 0) << read.err;
    std::map<std::string, std::string> logged;  // id -> position
    for (absl::string_view line : absl::StrSplit(read.out, '\n')) {
      logged[std::string(Field(line, "id"))] =
          std::string(Field(line, "position"));
    }
    std::ifstream acks(dir_ / "acks");
    std::string line;
    int acknowledged = 0;
    while (std::getline(acks, line)) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() != 2) continue;
      ++acknowledged;
      EXPECT_EQ(logged[parts[0]], parts[1]) << "acknowledged: " << line;
    }
    EXPECT_GT(acknowledged, 0);
  }

  // The string value of the first `"name":"..."` in a JSON line.
  static absl::string_view Field(absl::string_view line,
                                 absl::string_view name) {
    const std::string key = absl::StrCat("\"", name, "\":\"");
    const size_t start = line.find(key);
    if (start == absl::string_view::npos) return "";
    const size_t from = start + key.size();
    return line.substr(from, line.find('"', from) - from);
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string error_;
  bool mounted_ = false;
  int runs_ = 0;
};

TEST_F(StorageFaultsE2eTest, DamagedWalBeforeItsTailRefusesToStart) {
  std::string server = Start();
  ASSERT_EQ(error_, "");
  const testing::RunResult generated =
      Run({kBench, "--server", server, "--scenario", "generate", "--events",
           "2000", "--batch", "10"});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  Stop(SIGKILL);

  // Flip one byte in the middle of the WAL that holds the events.
  std::filesystem::path wal;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "data")) {
    if (entry.path().extension() == ".log" &&
        (wal.empty() || entry.file_size() > std::filesystem::file_size(wal))) {
      wal = entry.path();
    }
  }
  ASSERT_FALSE(wal.empty());
  ASSERT_GT(std::filesystem::file_size(wal), 1u << 20);
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle =
        static_cast<std::streamoff>(std::filesystem::file_size(wal) / 2);
    file.seekg(middle);
    const char byte = static_cast<char>(file.get());
    file.seekp(middle);
    file.put(static_cast<char>(byte ^ 0x40));
  }

  Start();
  EXPECT_THAT(error_, HasSubstr("annalsd exited early"));
  EXPECT_THAT(error_, HasSubstr("corrupt"));
  EXPECT_THAT(error_, HasSubstr("backup or a replica"));
}

TEST_F(StorageFaultsE2eTest, FullDiskStopsAppendsUntilSpaceIsBack) {
  const std::string data = (dir_ / "data").string();
  if (Run({"/bin/mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", data})
          .exit_code != 0) {
    GTEST_SKIP() << "mounting a small tmpfs needs root";
  }
  mounted_ = true;
  std::string server = Start();
  ASSERT_EQ(error_, "");
  EXPECT_EQ(Health(server), "SERVING\n");

  AppendFor(server, 4);  // far more than 24 MiB hold
  ASSERT_EQ(kill(pid_, 0), 0) << "annalsd died on a full disk";
  EXPECT_EQ(Health(server), "NOT_SERVING\n");

  ASSERT_EQ(Run({"/bin/mount", "-o", "remount,size=512m", data}).exit_code, 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Health(server) != "SERVING\n" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(Health(server), "SERVING\n");
  AppendFor(server, 1);

  // Nothing acknowledged is lost, before or after a restart.
  ExpectEveryAcknowledgedEvent(server);
  Stop(SIGTERM);
  server = Start({"--verify-on-start"});
  ASSERT_EQ(error_, "");
  ExpectEveryAcknowledgedEvent(server);
}

}  // namespace
}  // namespace annals
