// The real annalsd and its listening address: a port is served by one
// annalsd only, and a second one on it refuses to start, saying why.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::HasSubstr;

const std::string kAnnalsd = ANNALSD_PATH;

class ListenE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("listen_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "first");
    std::filesystem::create_directories(dir_ / "second");
  }

  void TearDown() override {
    for (pid_t pid : {first_, second_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        testing::WaitExit(pid);
      }
    }
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  pid_t first_ = -1;
  pid_t second_ = -1;
};

TEST_F(ListenE2eTest, SecondServerOnPortInUseFailsToStart) {
  const testing::StartedServer first =
      testing::StartAnnalsd(kAnnalsd, (dir_ / "first").string());
  first_ = first.pid;
  ASSERT_EQ(first.error, "");

  // Same address, another data directory.
  const testing::StartedServer second = testing::StartAnnalsd(
      kAnnalsd, (dir_ / "second").string(), {}, first.address);
  second_ = second.pid;
  EXPECT_EQ(second.port, "") << "a second annalsd serves " << first.address;
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.error, HasSubstr(first.address));
  EXPECT_THAT(second.error, HasSubstr("in use"));
}

}  // namespace
}  // namespace annals
