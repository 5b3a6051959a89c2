// The real annalsd and its listening address: a port is served by one
// annalsd only, and a second one on it refuses to start, saying why;
// plaintext is served on loopback only, unless explicitly allowed.
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

TEST_F(ListenE2eTest, PlaintextOffLoopbackIsRefusedNamingTheTlsFlag) {
  for (const std::string listen : {"0.0.0.0:0", "[::]:0", ":0"}) {
    const testing::StartedServer server = testing::StartAnnalsd(
        kAnnalsd, (dir_ / "first").string(), {}, listen);
    first_ = server.pid;
    EXPECT_EQ(server.port, "") << listen;
    EXPECT_EQ(server.exit_code, 2) << listen;
    EXPECT_THAT(server.error, HasSubstr("--tls-cert")) << listen;
    EXPECT_THAT(server.error, HasSubstr("--allow-insecure-listen")) << listen;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "first" / "data"))
        << "refused before the log is opened";
    first_ = -1;
  }
}

TEST_F(ListenE2eTest, InsecureListenIsServedWhenAllowedWithAWarning) {
  const testing::StartedServer server =
      testing::StartAnnalsd(kAnnalsd, (dir_ / "first").string(),
                            {"--allow-insecure-listen"}, "0.0.0.0:0");
  first_ = server.pid;
  ASSERT_EQ(server.error, "");
  const testing::RunResult health = testing::RunProcess(
      {ANNALS_PATH, "--server", server.address, "health"}, dir_.string());
  EXPECT_EQ(health.exit_code, 0) << health.err;
  kill(first_, SIGTERM);
  testing::WaitExit(first_);
  first_ = -1;
  EXPECT_THAT(testing::ReadFileOrEmpty((dir_ / "first" / "annalsd.log").string()),
              HasSubstr("WARN event=insecure_listen"));
}

}  // namespace
}  // namespace annals
