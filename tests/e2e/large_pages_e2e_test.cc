// Reads of a log whose events are large, through the real CLI: every page
// stays under the client's message limit (4 MiB by default), so `read
// --all`, `export` and `verify` work on any valid log.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;

TEST(LargePagesE2eTest, ReadAndExportALogOfLargeEvents) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      absl::StrCat("large_pages_e2e_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const testing::StartedServer server =
      testing::StartAnnalsd(kAnnalsd, dir.string());
  ASSERT_EQ(server.error, "");

  // One valid append of 1,000 events of 6 KB (a 4,000-byte summary and a
  // 2,000-character source title): 6 MB, more than one 4 MiB message
  // holds.
  const std::string events = (dir / "events.jsonl").string();
  {
    std::ofstream out(events);
    for (int i = 0; i < 1000; ++i) {
      out << R"({"id":"large-)" << i
          << R"(","meeting":{"type":"TYPE_TALKS","level":"LEVEL_MINISTERS"},)"
          << R"("source":["JPN"],"target":["PRK"],)"
          << R"("occurred":{"start":{"year":2002,"month":9,"day":17}},)"
          << R"("summary":")" << std::string(4000, 'x') << R"(",)"
          << R"("sources":[{"publisher":"annals tests","title":")"
          << std::string(2000, 't') << R"("}]})"
          << "\n";
    }
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server.address});
    return testing::RunProcess(args, dir.string());
  };
  const testing::RunResult appended = run({"append", events});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;

  const testing::RunResult read = run({"--json", "read", "--all"});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  const std::vector<std::string> lines =
      absl::StrSplit(read.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1000u);

  const std::string exported = (dir / "export.jsonl").string();
  const testing::RunResult exporting = run({"export", "--to", exported});
  EXPECT_EQ(exporting.exit_code, 0) << exporting.err;
  const std::string key = (dir / "key.pem").string();
  {
    const testing::RunResult public_key = run({"public-key"});
    ASSERT_EQ(public_key.exit_code, 0) << public_key.err;
    std::ofstream(key) << public_key.out;
  }
  const testing::RunResult verified =
      run({"verify", exported, "--public-key", key});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, ::testing::HasSubstr("OK: 1000 positions"));

  kill(server.pid, SIGTERM);
  testing::WaitExit(server.pid);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace annals
