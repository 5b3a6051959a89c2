// End-to-end: the real annalsd and the real annals CLI for verifiable
// history — public-key, export, verify (also of a damaged export), audit
// twice with appends between and across a restart, replay against the
// server's own answer, and get showing a correction.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "annals/v1/audit.pb.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
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
const std::string kAnnals = ANNALS_PATH;
const std::string kSeed = SEED_FILE;
const std::string kExamples = EXAMPLES_DIR;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class AuditEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("audit_e2e_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    StartServer();
  }
  void TearDown() override {
    StopServer(SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(),
        {"--shutdown-grace", "5s", "--durability", "buffered"});
    pid_ = started.pid;
    server_ = started.address;
    ASSERT_FALSE(server_.empty()) << started.error;
  }
  void StopServer(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    testing::WaitExit(pid_);
    pid_ = -1;
  }

  RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string());
  }
  std::string Path(const char* name) { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string server_;
};

TEST_F(AuditEndToEndTest, ExportVerifyAuditReplay) {
  RunResult import = Annals({"import", kSeed});
  ASSERT_EQ(import.exit_code, 0) << import.err;

  // The signing key was created in the data directory, owner-only.
  struct stat st;
  ASSERT_EQ(stat(Path("data/signing_key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  RunResult key = Annals({"public-key"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  ASSERT_THAT(key.out, StartsWith("-----BEGIN PUBLIC KEY-----"));
  std::ofstream(Path("key.pem")) << key.out;

  RunResult exported = Annals({"export", "--to", Path("log.jsonl")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  RunResult verified =
      Annals({"verify", Path("log.jsonl"), "--public-key", Path("key.pem")});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, StartsWith("OK: 89 positions"));

  // A damaged copy: one byte of position 12's stored bytes.
  std::vector<std::string> lines =
      Lines(testing::ReadFileOrEmpty(Path("log.jsonl")));
  ASSERT_GT(lines.size(), 13u);
  const size_t at = lines[12].find("\"stored\":\"") + 20;
  lines[12][at] = lines[12][at] == 'A' ? 'B' : 'A';
  {
    std::ofstream damaged(Path("damaged.jsonl"));
    for (const std::string& line : lines) damaged << line << "\n";
  }
  RunResult bad =
      Annals({"verify", Path("damaged.jsonl"), "--public-key", Path("key.pem")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("position 12"));

  // Audit, append, audit again: consistent.
  RunResult first = Annals({"audit", "--state", Path("state.json"),
                            "--public-key", Path("key.pem")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, StartsWith("first audit: tree size 89"));
  EXPECT_THAT(first.err, Not(HasSubstr("WARNING")));
  RunResult unpinned = Annals({"audit", "--state", Path("unpinned.json")});
  ASSERT_EQ(unpinned.exit_code, 0) << unpinned.err;
  EXPECT_THAT(unpinned.err, HasSubstr("WARNING: no --public-key"));
  EXPECT_THAT(unpinned.err, HasSubstr("Pin the key"));
  RunResult more = Annals({"import", kExamples + "/events.jsonl"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  RunResult second = Annals({"audit", "--state", Path("state.json")});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, StartsWith("consistent: tree size 89 -> "));

  // Restarted, the server keeps its roots and its key.
  StopServer(SIGTERM);
  StartServer();
  RunResult third = Annals({"audit", "--state", Path("state.json")});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr("consistent: tree size"));

  // The state file holds the signed head of the last audit.
  const std::string state = testing::ReadFileOrEmpty(Path("state.json"));
  v1::SignedTreeHead head;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(state, &head).ok());
  EXPECT_GT(head.tree_size(), 89u);
  EXPECT_EQ(head.signature().size(), 64u);

  // Replay of the export equals the server's own state at position 40.
  RunResult replay = Annals({"--json", "replay", Path("log.jsonl"),
                             "--to-position", "40", "--public-key",
                             Path("key.pem")});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  bool found = false;
  for (const std::string& line : Lines(replay.out)) {
    v1::RelationshipState replayed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &replayed).ok());
    if (replayed.dyad() != "JPN-PRK") continue;
    found = true;
    RunResult server = Annals({"--json", "relationship", "JPN", "PRK",
                               "--as-of-position", "40"});
    ASSERT_EQ(server.exit_code, 0) << server.err;
    v1::GetRelationshipResponse response;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(server.out, &response).ok());
    EXPECT_EQ(replayed.SerializeAsString(), response.state().SerializeAsString());
  }
  EXPECT_TRUE(found) << replay.out;
  RunResult by_date = Annals({"replay", Path("log.jsonl"), "--to-date", "2002-12"});
  EXPECT_EQ(by_date.exit_code, 0) << by_date.err;
  EXPECT_THAT(by_date.out, HasSubstr("JPN-PRK"));
  EXPECT_EQ(Annals({"replay", Path("log.jsonl")}).exit_code, 2);
}

}  // namespace
}  // namespace annals
