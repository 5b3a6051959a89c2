// annalsd under systemd's notification protocol, for real: the test is the
// service manager's end of NOTIFY_SOCKET (a unix datagram socket) and
// hears READY=1 once annalsd answers, STATUS= with the head, WATCHDOG=1
// when WATCHDOG_USEC and WATCHDOG_PID say so, and STOPPING=1 on SIGTERM.
// And deploy/systemd/annalsd.service passes systemd-analyze verify.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kUnit = SYSTEMD_UNIT_PATH;

// The service manager's end of NOTIFY_SOCKET: an abstract unix datagram
// socket ("@annals-notify-PID-N" in the environment).
class NotifySocket {
 public:
  NotifySocket() {
    static int counter = 0;
    name_ = absl::StrCat("annals-notify-", getpid(), "-", ++counter);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // Abstract: a NUL, then the name; no file to remove.
    std::memcpy(address.sun_path + 1, name_.data(), name_.size());
    const socklen_t length = static_cast<socklen_t>(
        offsetof(sockaddr_un, sun_path) + 1 + name_.size());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0)
        << std::strerror(errno);
  }
  ~NotifySocket() { close(fd_); }

  // NOTIFY_SOCKET's value.
  std::string Address() const { return "@" + name_; }

  // The next message, or nullopt when none came within `timeout`.
  std::optional<std::string> Receive(absl::Duration timeout) {
    // A zero SO_RCVTIMEO waits for ever.
    const timeval tv =
        absl::ToTimeval(std::max(timeout, absl::Milliseconds(1)));
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

  // Receives until a message holds `line` as one of its lines (20 s at
  // most); every message received on the way is appended to `seen`.
  std::optional<std::string> WaitFor(absl::string_view line,
                                     std::vector<std::string>* seen) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      std::optional<std::string> message = Receive(deadline - absl::Now());
      if (!message.has_value()) break;
      seen->push_back(*message);
      for (absl::string_view l : absl::StrSplit(*message, '\n')) {
        if (absl::StartsWith(l, line)) return message;
      }
    }
    return std::nullopt;
  }

 private:
  std::string name_;
  int fd_ = -1;
};

class SystemdE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat(
               "systemd_e2e_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      testing::WaitExit(pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd on port 0 with `env`; does not wait for it.
  void Spawn(const testing::ChildEnvironment& env) {
    pid_ = testing::Spawn(
        {kAnnalsd, "--listen", "127.0.0.1:0", "--data-dir",
         (dir_ / "data").string(), "--port-file", (dir_ / "port").string()},
        "", (dir_ / "annalsd.out").string(), (dir_ / "annalsd.log").string(),
        env);
    ASSERT_GT(pid_, 0);
  }

  std::string Log() const {
    return testing::ReadFileOrEmpty((dir_ / "annalsd.log").string());
  }

  // `annals --server 127.0.0.1:PORT args...`.
  testing::RunResult Annals(const std::vector<std::string>& args) {
    std::string port = testing::ReadFileOrEmpty((dir_ / "port").string());
    if (!port.empty() && port.back() == '\n') port.pop_back();
    std::vector<std::string> argv = {kAnnals, "--server", "127.0.0.1:" + port};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, dir_.string());
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST_F(SystemdE2eTest, ReadyOnceServingStatusWithTheHeadStoppingOnSigterm) {
  NotifySocket notify;
  Spawn({{"NOTIFY_SOCKET=" + notify.Address()}, ""});
  std::vector<std::string> seen;
  const std::optional<std::string> ready = notify.WaitFor("READY=1", &seen);
  ASSERT_TRUE(ready.has_value()) << Log();
  // Sent once the port is written and the server answers.
  EXPECT_TRUE(std::filesystem::exists(dir_ / "port"));
  EXPECT_EQ(Annals({"health"}).out, "SERVING\n");
  EXPECT_THAT(*ready, HasSubstr("STATUS=serving, head position 0"));
  EXPECT_THAT(seen.front(), StartsWith("STATUS=opening the event log in "))
      << "the status says what starting is doing";

  const std::string example =
      std::string(EXAMPLES_DIR) + "/secret_talks_2001_2002.json";
  ASSERT_EQ(Annals({"append", example}).exit_code, 0);
  EXPECT_TRUE(notify.WaitFor("STATUS=serving, head position 1", &seen))
      << "the status follows the head";
  for (const std::string& message : seen) {
    EXPECT_THAT(message, Not(HasSubstr("WATCHDOG=1")))
        << "no WATCHDOG_USEC, no watchdog";
  }

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  const std::optional<std::string> stopping =
      notify.WaitFor("STOPPING=1", &seen);
  ASSERT_TRUE(stopping.has_value());
  EXPECT_THAT(*stopping, HasSubstr("STATUS=stopping on SIGTERM"));
  EXPECT_EQ(testing::WaitExit(pid_), 0);
  pid_ = -1;
}

TEST_F(SystemdE2eTest, WatchdogIsFedWhenItsPidIsAnnalsds) {
  NotifySocket notify;
  // 400 ms: annalsd looks at its writer every 100 ms.
  Spawn({{"NOTIFY_SOCKET=" + notify.Address(), "WATCHDOG_USEC=400000"},
         "WATCHDOG_PID"});
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", &seen)) << Log();
  int fed = 0;
  const absl::Time until = absl::Now() + absl::Seconds(2);
  while (absl::Now() < until) {
    std::optional<std::string> message = notify.Receive(until - absl::Now());
    if (message == "WATCHDOG=1") ++fed;
  }
  EXPECT_GE(fed, 5) << "WATCHDOG=1 about every 100 ms";
}

TEST_F(SystemdE2eTest, WatchdogOfAnotherPidIsNotAnnalsds) {
  NotifySocket notify;
  Spawn({{"NOTIFY_SOCKET=" + notify.Address(), "WATCHDOG_USEC=400000",
          absl::StrCat("WATCHDOG_PID=", getpid())},
         ""});
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", &seen)) << Log();
  const absl::Time until = absl::Now() + absl::Seconds(1);
  while (absl::Now() < until) {
    std::optional<std::string> message = notify.Receive(until - absl::Now());
    EXPECT_NE(message, "WATCHDOG=1")
        << "sd_watchdog_enabled says no to another process's watchdog";
  }
}

TEST_F(SystemdE2eTest, WithoutNotifySocketNothingIsSentAndAnnalsdServes) {
  Spawn({{}, ""});
  ASSERT_TRUE(testing::Eventually([&] {
    return std::filesystem::exists(dir_ / "port");
  })) << Log();
  EXPECT_EQ(Annals({"health"}).out, "SERVING\n");
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(testing::WaitExit(pid_), 0);
  pid_ = -1;
}

// systemd-analyze's path, or "" when it is not installed.
std::string SystemdAnalyze() {
  for (const char* path :
       {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

TEST_F(SystemdE2eTest, UnitPassesSystemdAnalyzeVerifyAndIsHardened) {
  const std::string analyze = SystemdAnalyze();
  if (analyze.empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package "
                    "systemd): deploy/systemd/annalsd.service is not checked";
  }
  // The unit names the installed binary; here it is the one just built.
  const std::string unit = testing::ReadFileOrEmpty(kUnit);
  ASSERT_THAT(unit, HasSubstr("ExecStart=/usr/local/bin/annalsd "));
  const std::filesystem::path copy = dir_ / "annalsd.service";
  std::ofstream(copy) << absl::StrReplaceAll(
      unit, {{"ExecStart=/usr/local/bin/annalsd ",
              absl::StrCat("ExecStart=", kAnnalsd, " ")}});

  const testing::RunResult verify =
      testing::RunProcess({analyze, "verify", copy.string()}, dir_.string());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  // It warns (and exits 0) about lines it ignores: none may be.
  EXPECT_EQ(verify.out + verify.err, "");
  for (const char* line :
       {"Type=notify", "WatchdogSec=", "NotifyAccess=main", "User=annals",
        "ProtectSystem=strict", "ReadWritePaths=/var/lib/annals",
        "NoNewPrivileges=yes", "LimitNOFILE=", "Restart=on-failure"}) {
    EXPECT_THAT(unit, HasSubstr(absl::StrCat("\n", line))) << line;
  }

  const testing::RunResult security = testing::RunProcess(
      {analyze, "security", "--offline=true", copy.string()}, dir_.string());
  const std::string kOverall = "Overall exposure level for annalsd.service: ";
  const size_t at = security.out.find(kOverall);
  ASSERT_NE(at, std::string::npos) << security.out << security.err;
  double exposure = 10;
  ASSERT_TRUE(absl::SimpleAtod(security.out.substr(at + kOverall.size(), 3),
                               &exposure));
  EXPECT_LE(exposure, 2.0) << security.out;
}

}  // namespace
}  // namespace annals
