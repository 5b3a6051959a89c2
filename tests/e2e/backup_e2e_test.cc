// Backups end to end with the real binaries: `annals admin backup` while a
// client appends without pause, `annals admin backups`, then `annalsd
// --restore-from` into a new data directory, which serves every event
// acknowledged before the backup, up to the backup's head, and nothing
// after it; an export of the restored server verifies with the original
// server's key. A backup with a flipped byte, and a data directory that is
// not empty, are refused at restore.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "annals/v1/query.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/events.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

namespace fs = std::filesystem;
using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kSeed = SEED_FILE;

class BackupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "backup_e2e_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    for (const char* sub : {"live", "restored", "damaged", "busy"}) {
      fs::create_directories(dir_ / sub);
    }
  }

  void TearDown() override {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      testing::WaitExit(pid);
    }
    fs::remove_all(dir_);
  }

  // Starts annalsd over `sub`/data with `flags`; its address, "" when it
  // did not start (`started` says why).
  std::string Start(const std::string& sub, std::vector<std::string> flags,
                    testing::StartedServer* started) {
    flags.insert(flags.end(), {"--durability", "buffered"});
    *started = testing::StartAnnalsd(kAnnalsd, Path(sub), flags);
    if (started->pid > 0) pids_.push_back(started->pid);
    return started->address;
  }

  RunResult Annals(const std::string& server, std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server});
    return RunProcess(args, dir_.string());
  }

  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }

  fs::path dir_;
  std::vector<pid_t> pids_;
};

TEST_F(BackupE2eTest, BackupUnderLoadRestoresEveryAcknowledgedEvent) {
  testing::StartedServer live;
  const std::string server = Start("live", {}, &live);
  ASSERT_FALSE(server.empty()) << live.error;
  RunResult imported = Annals(server, {"import", kSeed});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  RunResult key = Annals(server, {"public-key"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::ofstream(Path("key.pem")) << key.out;

  // A client appends one event after another, without pause, while the
  // backup runs.
  ClientOptions options;
  options.server = server;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Mutex mu;
  std::map<std::string, uint64_t> acknowledged;  // id -> position
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = absl::StrCat("load-", i);
      v1::AppendRequest request;
      *request.add_events() = testing::MakeMeeting(id, "USA", "PRK");
      absl::StatusOr<v1::AppendResponse> appended = (*client)->Append(request);
      if (!appended.ok()) continue;
      absl::MutexLock lock(&mu);
      acknowledged[id] = appended->positions(0);
    }
  });
  auto acknowledgements = [&] {
    absl::MutexLock lock(&mu);
    return acknowledged;
  };
  ASSERT_TRUE(
      testing::Eventually([&] { return acknowledgements().size() >= 50; }));
  const std::map<std::string, uint64_t> before = acknowledgements();
  RunResult backup =
      Annals(server, {"--json", "admin", "backup", "--to", Path("backups")});
  const size_t during = acknowledgements().size();
  ASSERT_TRUE(testing::Eventually(
      [&] { return acknowledgements().size() >= during + 20; }));
  stop = true;
  appender.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  v1::CreateBackupResponse taken;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(backup.out, &taken).ok())
      << backup.out;
  const uint64_t head = taken.head_position();
  EXPECT_EQ(taken.backup_id(), 1u);
  EXPECT_GE(head, 89u + before.size());
  EXPECT_EQ(taken.tree_head_file(), Path("backups/tree-heads/1.json"));
  const std::map<std::string, uint64_t> all = acknowledgements();
  uint64_t last = 0;
  for (const auto& [id, position] : all) last = std::max(last, position);
  ASSERT_GT(last, head) << "appends went on after the backup";

  RunResult listed = Annals(server, {"admin", "backups", Path("backups")});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(absl::StrCat("  ", head, "  ")));
  EXPECT_THAT(listed.out, HasSubstr(Path("backups/tree-heads/1.json")));
  EXPECT_THAT(listed.out, Not(HasSubstr("differs")));

  testing::StartedServer restored_server;
  const std::string restored =
      Start("restored",
            {"--restore-from", Path("backups"), "--signing-key",
             Path("live/data/signing_key.pem")},
            &restored_server);
  ASSERT_FALSE(restored.empty()) << restored_server.error;
  EXPECT_THAT(testing::ReadFileOrEmpty(Path("restored/annalsd.log")),
              HasSubstr(absl::StrCat("restored backup 1 from ", Path("backups"),
                                     " into ", Path("restored/data"), ": head ",
                                     head, ",")));
  options.server = restored;
  absl::StatusOr<std::unique_ptr<Client>> reader = Client::Connect(options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (const auto& [id, position] : all) {
    absl::StatusOr<v1::RecordedEvent> event = (*reader)->GetEvent(id);
    if (position <= head) {
      ASSERT_TRUE(event.ok()) << id << ": " << event.status();
      EXPECT_EQ(event->position(), position) << id;
    } else {
      EXPECT_FALSE(event.ok())
          << id << " at " << position << " is after the backup's head " << head;
    }
  }
  for (const auto& [id, position] : before) {
    EXPECT_LE(position, head) << id << " was acknowledged before the backup";
  }

  RunResult exported =
      Annals(restored, {"export", "--to", Path("restored.jsonl")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  RunResult verified = Annals(restored, {"verify", Path("restored.jsonl"),
                                         "--public-key", Path("key.pem")});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out,
              StartsWith(absl::StrCat("OK: ", head, " positions")));
  RunResult rebuilt = Annals(restored, {"admin", "rebuild", "--check"});
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
}

TEST_F(BackupE2eTest, DamagedBackupAndBusyDataDirectoryAreRefused) {
  testing::StartedServer live;
  const std::string server = Start("live", {}, &live);
  ASSERT_FALSE(server.empty()) << live.error;
  RunResult imported = Annals(server, {"import", kSeed});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  RunResult backup =
      Annals(server, {"admin", "backup", "--to", Path("backups")});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_THAT(backup.out, StartsWith(absl::StrCat(
                              "backup 1 in ", Path("backups"), ": head 89")));
  RunResult relative = Annals(server, {"admin", "backup", "--to", "backups"});
  EXPECT_EQ(relative.exit_code, 1);
  EXPECT_THAT(relative.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(relative.err, HasSubstr("to: must be an absolute path"));

  fs::create_directories(Path("busy/data"));
  std::ofstream(Path("busy/data/notes.txt")) << "keep me";
  const std::vector<std::string> restore = {"--restore-from", Path("backups"),
                                            "--signing-key",
                                            Path("live/data/signing_key.pem")};
  testing::StartedServer busy;
  EXPECT_EQ(Start("busy", restore, &busy), "");
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_THAT(busy.error, HasSubstr("is not empty (it holds notes.txt)"));
  EXPECT_TRUE(fs::exists(Path("busy/data/notes.txt")));

  std::string table;
  for (const auto& entry :
       fs::directory_iterator(Path("backups/shared_checksum"))) {
    if (entry.path().extension() == ".sst") {
      table = entry.path().string();
      break;
    }
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream io(table, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(100);
    const char byte = static_cast<char>(io.get());
    io.seekp(100);
    io.put(static_cast<char>(byte ^ 0x20));
  }
  testing::StartedServer damaged;
  EXPECT_EQ(Start("damaged", restore, &damaged), "");
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_THAT(damaged.error, HasSubstr("damaged and was not restored"));
  EXPECT_THAT(damaged.error, HasSubstr(table));
  EXPECT_FALSE(fs::exists(Path("damaged/data")));

  testing::StartedServer keyless;
  EXPECT_EQ(Start("damaged", {"--restore-from", Path("backups")}, &keyless),
            "");
  EXPECT_EQ(keyless.exit_code, 2);
  EXPECT_THAT(keyless.error, HasSubstr("--restore-from needs --signing-key"));
}

}  // namespace
}  // namespace annals
