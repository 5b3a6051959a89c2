// --help, -h, help and --version of the real programs: exit 0, on stdout,
// flags as users type them, no build paths, the version and the commit.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

struct Program {
  std::string path;
  std::string name;
  std::string a_flag;  // one of its own flags, as typed
};

const std::vector<Program>& Programs() {
  static const auto* programs = new std::vector<Program>{
      {ANNALS_PATH, "annals", "--tls-ca"},
      {ANNALSD_PATH, "annalsd", "--data-dir"},
      {ANNALS_BENCH_PATH, "annals-bench", "--scenario"}};
  return *programs;
}

TEST(HelpE2eTest, HelpIsOnStdoutWithExitZeroAndDashedFlags) {
  for (const Program& program : Programs()) {
    for (const char* asked : {"--help", "-h"}) {
      const RunResult help =
          RunProcess({program.path, asked}, ::testing::TempDir());
      EXPECT_EQ(help.exit_code, 0) << program.name << " " << asked;
      EXPECT_THAT(help.err, IsEmpty()) << program.name << " " << asked;
      EXPECT_THAT(help.out, HasSubstr(program.a_flag)) << program.name;
      EXPECT_THAT(help.out, Not(HasSubstr("Flags from"))) << program.name;
      EXPECT_THAT(help.out, Not(HasSubstr("--data_dir"))) << program.name;
    }
  }
  const RunResult help = RunProcess({ANNALS_PATH, "help"}, ::testing::TempDir());
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Commands:"));
}

TEST(HelpE2eTest, VersionNamesTheVersionAndTheCommit) {
  for (const Program& program : Programs()) {
    const RunResult version =
        RunProcess({program.path, "--version"}, ::testing::TempDir());
    EXPECT_EQ(version.exit_code, 0) << program.name;
    EXPECT_THAT(version.out,
                MatchesRegex(program.name +
                             " [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-z+]+\\)\n"))
        << program.name;
    EXPECT_THAT(version.out, Not(HasSubstr("Debug build")));
  }
}

}  // namespace
}  // namespace annals
