// SystemdNotifier over a real event log, its messages captured: READY=1
// with the head, STATUS= kept current, WATCHDOG=1 while the writer answers
// and none while it is held, STOPPING=1 last.
#include "services/server/systemd_notifier.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/log.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class SystemdNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        absl::StrCat(::testing::TempDir(), "/systemd_notifier_test_", getpid());
    std::filesystem::remove_all(dir_);
    storage::LogOptions options;
    options.sync = false;
    options.before_group = [this] {
      absl::MutexLock lock(&mu_, absl::Condition(&writer_may_go_));
    };
    auto log = storage::OpenRocksEventLog(dir_, options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    log::SetOutput([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      log_lines_.emplace_back(line);
    });
  }

  void TearDown() override {
    notifier_.reset();
    HoldWriter(false);
    log_.reset();
    log::SetOutput(nullptr);
    std::filesystem::remove_all(dir_);
  }

  void Start(std::optional<absl::Duration> watchdog) {
    SystemdNotifier::Options options;
    options.send = [this](const std::string& message) {
      absl::MutexLock lock(&mu_);
      messages_.push_back(message);
    };
    options.status_interval = absl::Milliseconds(100);
    options.watchdog = watchdog;
    notifier_ = std::make_unique<SystemdNotifier>(options);
    notifier_->Ready(log_.get());
  }

  void HoldWriter(bool hold) {
    absl::MutexLock lock(&mu_);
    writer_may_go_ = !hold;
  }

  // The messages sent so far, and then forgotten.
  std::vector<std::string> TakeMessages() {
    absl::MutexLock lock(&mu_);
    return std::move(messages_);
  }

  // Waits up to 10 s for a message that holds `text`.
  bool WaitForMessage(absl::string_view text) {
    absl::MutexLock lock(&mu_);
    auto sent = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const std::string& message : messages_) {
        if (absl::StrContains(message, text)) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&sent), absl::Seconds(10));
  }

  std::vector<std::string> LogLines() {
    absl::MutexLock lock(&mu_);
    return log_lines_;
  }

  std::string dir_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<SystemdNotifier> notifier_;
  absl::Mutex mu_;
  bool writer_may_go_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> log_lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SystemdNotifierTest, ReadyNamesTheHeadAndTheStatusFollowsIt) {
  Start(std::nullopt);
  ASSERT_TRUE(WaitForMessage("READY=1"));
  EXPECT_EQ(TakeMessages().front(), "READY=1\nSTATUS=serving, head position 0");
  ASSERT_THAT(
      log_->Append(storage::AppendBatch{"JPN-PRK",
                                        storage::ExpectedVersion::Any(),
                                        {testing::MakeMeeting("status")},
                                        "test"}),
      IsOk());
  EXPECT_TRUE(WaitForMessage("STATUS=serving, head position 1"));
  notifier_->Stopping("stopping on SIGTERM");
  const std::vector<std::string> messages = TakeMessages();
  EXPECT_EQ(messages.back(), "STOPPING=1\nSTATUS=stopping on SIGTERM");
  EXPECT_THAT(messages, Not(Contains(HasSubstr("WATCHDOG"))))
      << "no watchdog, no WATCHDOG=1";
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_TRUE(TakeMessages().empty()) << "nothing after STOPPING=1";
}

TEST_F(SystemdNotifierTest, WatchdogIsFedOnlyWhileTheWriterAnswers) {
  Start(absl::Milliseconds(200));  // looked at every 50 ms
  ASSERT_TRUE(WaitForMessage("WATCHDOG=1"));

  HoldWriter(true);  // the next probe wakes the writer, which then stops
  absl::SleepFor(absl::Milliseconds(200));
  TakeMessages();  // a probe may have come back before the writer stopped
  absl::SleepFor(absl::Milliseconds(500));
  const std::vector<std::string> held = TakeMessages();
  EXPECT_THAT(held, Not(Contains("WATCHDOG=1")));
  EXPECT_THAT(
      held,
      Contains(HasSubstr("STATUS=the event log's writer has not answered")));
  EXPECT_THAT(LogLines(), Contains(HasSubstr("WARN event=writer_stuck")));

  HoldWriter(false);
  EXPECT_TRUE(WaitForMessage("WATCHDOG=1"));
  EXPECT_TRUE(WaitForMessage("STATUS=serving"));
  EXPECT_THAT(LogLines(), Contains(HasSubstr("INFO event=writer_answering")));
}

TEST_F(SystemdNotifierTest, StoppingIsSentOnceAndStopsTheFeeding) {
  Start(absl::Milliseconds(200));
  ASSERT_TRUE(WaitForMessage("WATCHDOG=1"));
  notifier_->Stopping("stopping on SIGINT");
  notifier_->Stopping("stopping again");
  absl::SleepFor(absl::Milliseconds(200));
  const std::vector<std::string> messages = TakeMessages();
  EXPECT_EQ(messages.back(), "STOPPING=1\nSTATUS=stopping on SIGINT");
}

}  // namespace
}  // namespace annals::services
