// EventLog.AppendSession against the real annalsd: what a session
// acknowledged survives kill -9 of the server, at the acknowledged
// positions, and the client sees the session end instead of hanging.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "tests/testing/events.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

const std::string kAnnalsd = ANNALSD_PATH;

class AppendSessionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("append_session_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    Kill();
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd over dir_/data, durable; returns its address.
  std::string StartServer() {
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_.string(), {"--durability", "sync"});
    pid_ = started.pid;
    EXPECT_EQ(started.error, "");
    return started.address;
  }

  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      testing::WaitExit(pid_);
      pid_ = -1;
    }
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST_F(AppendSessionE2eTest, AcknowledgedAppendsSurviveKill9) {
  ClientOptions options;
  options.server = StartServer();
  ASSERT_GT(pid_, 0);
  absl::StatusOr<std::unique_ptr<Client>> connected = Client::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  Client& client = **connected;

  absl::Mutex mu;
  std::map<std::string, uint64_t> acked;  // id -> position
  int failed = 0;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::unique_ptr<AppendSession> session = client.OpenAppendSession(32);
  std::thread appender([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = absl::StrCat("durable-", i);
      v1::AppendRequest request;
      *request.add_events() = testing::MakeMeeting(
          id, i % 2 == 0 ? "JPN" : "USA", i % 3 == 0 ? "PRK" : "KOR");
      session->Append(
          std::move(request),
          [&, id](absl::StatusOr<v1::AppendResponse> response) {
            absl::MutexLock lock(&mu);
            if (response.ok()) {
              acked[id] = response->positions(0);
            } else {
              ++failed;
            }
          });
      ++sent;
    }
  });
  // Kill it mid-stream, with appends in flight.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (acked.size() >= 300) break;
    }
    ASSERT_LT(absl::Now(), deadline) << "too few acknowledgements";
    absl::SleepFor(absl::Milliseconds(2));
  }
  Kill();
  // The session ends (no hang) and every append is answered.
  const absl::Status finished = session->Finish();
  stop = true;
  appender.join();
  EXPECT_FALSE(finished.ok());
  std::map<std::string, uint64_t> survivors;
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(static_cast<int>(acked.size()) + failed, sent.load());
    survivors = acked;
  }
  session.reset();

  options.server = StartServer();
  ASSERT_GT(pid_, 0);
  absl::StatusOr<std::unique_ptr<Client>> after = Client::Connect(options);
  ASSERT_TRUE(after.ok()) << after.status();
  for (const auto& [id, position] : survivors) {
    absl::StatusOr<v1::RecordedEvent> event = (*after)->GetEvent(id);
    ASSERT_TRUE(event.ok()) << id << ": " << event.status();
    EXPECT_EQ(event->position(), position) << id;
  }
}

}  // namespace
}  // namespace annals
