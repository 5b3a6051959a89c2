// End-to-end: the command block of README.md's "Using it" section, run as
// a new user runs it after `deploy/dev.sh run`: line by line, in order,
// from the repository's root, against the real annalsd with the seed
// timeline imported. The block is read from README.md when the test runs,
// so the README cannot say what the programs do not do.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kSeed = SEED_FILE;
const std::string kSourceDir = SOURCE_DIR;

// `line` without a trailing shell comment (a `#` that starts a word) and
// surrounding whitespace.
std::string WithoutComment(absl::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' &&
        (i == 0 ||
         absl::ascii_isspace(static_cast<unsigned char>(line[i - 1])))) {
      line = line.substr(0, i);
      break;
    }
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

// The commands of the first ```sh block under "## Using it" in `readme`,
// comments and blank lines left out; empty when there is no such block.
std::vector<std::string> UsingItCommands(const std::string& readme) {
  std::vector<std::string> commands;
  bool in_section = false;
  bool in_block = false;
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (in_block) {
      if (absl::StartsWith(line, "```")) return commands;
      std::string command = WithoutComment(line);
      if (!command.empty()) commands.push_back(std::move(command));
    } else if (absl::StartsWith(line, "## ")) {
      in_section = line == "## Using it";
    } else if (in_section && line == "```sh") {
      in_block = true;
    }
  }
  return {};  // no block, or one that is never closed
}

// The line of `text` that starts with `prefix`, or "".
std::string LineStartingWith(const std::string& text,
                             absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) return std::string(line);
  }
  return "";
}

class ReadmeEndToEndTest : public ::testing::Test {
 protected:
  // annalsd on a free port over a temporary directory, with the seed
  // imported as `deploy/dev.sh run` imports it.
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat(
               "readme_e2e_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(),
        {"--shutdown-grace", "5s", "--durability", "buffered"});
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = started.address;
    const RunResult import = Annals({"import", kSeed});
    ASSERT_EQ(import.exit_code, 0) << import.err;
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      testing::WaitExit(server_pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string());
  }

  // Runs each command of the block with /bin/sh from the repository's
  // root, `$annals` being the built annals and `$ANNALS_SERVER` this
  // test's annalsd; checks that each succeeds and says what the README's
  // comments promise.
  void RunUsingIt() {
    const std::vector<std::string> commands =
        UsingItCommands(testing::ReadFileOrEmpty(kSourceDir + "/README.md"));
    ASSERT_THAT(commands, Not(IsEmpty()))
        << "README.md has no ```sh block under \"## Using it\"";
    ASSERT_EQ(setenv("annals", kAnnals.c_str(), 1), 0);
    ASSERT_EQ(setenv("ANNALS_SERVER", server_.c_str(), 1), 0);
    for (const char* name : {"ANNALS_TLS_CA", "ANNALS_TLS_CERT",
                             "ANNALS_TLS_KEY", "ANNALS_TOKEN"}) {
      ASSERT_EQ(unsetenv(name), 0);
    }
    std::filesystem::current_path(kSourceDir);

    for (const std::string& command : commands) {
      SCOPED_TRACE(command);
      const RunResult run =
          RunProcess({"/bin/sh", "-c", command}, dir_.string());
      ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
      const std::vector<std::string> words =
          absl::StrSplit(command, ' ', absl::SkipEmpty());
      absl::string_view first = words[0];
      if (absl::ConsumePrefix(&first, "annals=")) {
        // The README names the binary by its place in the build directory.
        EXPECT_TRUE(absl::EndsWith(
            kAnnals, absl::StrCat("/", absl::StripPrefix(first, "build/"))))
            << kAnnals;
        continue;
      }
      ASSERT_EQ(words[0], "$annals");
      const std::string verb = words.size() > 1 ? words[1] : "";
      if (verb == "health") {
        EXPECT_EQ(run.out, "SERVING\n");
      }
      // The examples are new to a log that holds the seed.
      if (verb == "append") {
        EXPECT_THAT(run.out, StartsWith("appended "));
      }
      // The seed is imported already: importing it again changes nothing.
      if (verb == "import") {
        EXPECT_THAT(run.out, StartsWith("imported 0 new events"));
      }
      if (words.size() > 2 && words[words.size() - 2] == "get") {
        EXPECT_THAT(run.out, HasSubstr(absl::StrCat("\"", words.back(), "\"")));
      }
    }
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  std::string server_;
};

TEST_F(ReadmeEndToEndTest, UsingItRunsTopToBottom) { RunUsingIt(); }

// The examples are events the seed does not have: after them, Japan and
// North Korea have had as many leaders' meetings as the seed records.
TEST_F(ReadmeEndToEndTest, ExamplesAddNoLeadersMeetingToJapanDprk) {
  const RunResult seeded = Annals({"relationship", "JPN", "PRK"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  const std::string seed_count =
      LineStartingWith(seeded.out, "leaders' meetings: ");
  ASSERT_NE(seed_count, "") << seeded.out;

  RunUsingIt();
  if (HasFatalFailure()) return;

  const RunResult after = Annals({"relationship", "JPN", "PRK"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(LineStartingWith(after.out, "leaders' meetings: "), seed_count)
      << after.out;
}

}  // namespace
}  // namespace annals
