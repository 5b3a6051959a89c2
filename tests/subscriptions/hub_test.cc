// The hub's own contract, on a real log and without gRPC: which waiters a
// commit wakes, and the pacing of wake-ups (SubscriptionOptions::
// wake_interval).

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "storage/rocks_event_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::Eventually;
using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;

// A hub subscriber that counts its wake-ups.
class CountingSubscriber : public services::HubSubscriber {
 public:
  void OnCommitted() override { ++woken; }
  void Stop(const absl::Status&) override {}
  std::atomic<int> woken{0};
};

class HubTest : public ::testing::Test {
 protected:
  // A hub with `options` (one executor thread: tasks run in order) over a
  // new log.
  void Start(services::SubscriptionOptions options) {
    options.executor_threads = 1;
    hub_ = std::make_unique<services::SubscriptionHub>(options);
    storage::LogOptions log_options;
    log_options.sync = false;  // nothing here is about durability
    log_options.on_commit = hub_->CommitListener();
    auto log = storage::OpenRocksEventLog(dir_.Sub("log"), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    hub_->Attach(log_.get());
  }

  // A hub that wakes at most once per `interval`, with subscriber_
  // registered.
  void StartPaced(absl::Duration interval) {
    services::SubscriptionOptions options;
    options.wake_interval = interval;
    Start(options);
    ASSERT_THAT(hub_->Register(&subscriber_), IsOk());
  }

  void TearDown() override {
    if (hub_ != nullptr) {
      hub_->Unregister(&subscriber_);
      hub_->Shutdown();
    }
    if (log_ != nullptr) log_->Close();
    if (hub_ != nullptr) hub_->Drain();
    log_.reset();
    hub_.reset();
  }

  void Append(v1::Event event) {
    ASSERT_THAT(log_->Append({"misc", {}, {std::move(event)}, "t"}), IsOk());
  }
  void Append(const std::string& id) { Append(MakeMeeting(id, "JPN", "PRK")); }

  // Waits until the executor has run everything submitted before.
  void Settle() {
    std::atomic<bool> ran{false};
    ASSERT_TRUE(hub_->Submit([&ran] { ran = true; }));
    ASSERT_TRUE(Eventually([&] { return ran.load(); }));
  }

  bool Woken(int times) {
    return Eventually([&] { return subscriber_.woken.load() >= times; });
  }

  storage::testing::ScratchDir dir_;
  std::unique_ptr<services::SubscriptionHub> hub_;
  std::unique_ptr<storage::EventLog> log_;
  CountingSubscriber subscriber_;
};

TEST_F(HubTest, DyadWaitersWakeOnlyForTheirDyadOrACorrection) {
  Start(services::SubscriptionOptions());
  CountingSubscriber& watcher = subscriber_;
  CountingSubscriber other, any;
  ASSERT_THAT(hub_->Register(&watcher), IsOk());
  ASSERT_THAT(hub_->Register(&other), IsOk());
  ASSERT_THAT(hub_->Register(&any), IsOk());
  ASSERT_TRUE(hub_->WaitForDyad("JPN-PRK", hub_->head(), &watcher));
  ASSERT_TRUE(hub_->WaitForDyad("KOR-USA", hub_->head(), &other));
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &any));

  Append(MakeMeeting("a", "USA", "RUS"));  // neither dyad
  Settle();
  EXPECT_EQ(watcher.woken, 0);
  EXPECT_EQ(other.woken, 0);
  EXPECT_EQ(any.woken, 1);  // any commit wakes a plain waiter

  Append(MakeMeeting("b", "PRK", "JPN"));
  Settle();
  EXPECT_EQ(watcher.woken, 1);
  EXPECT_EQ(other.woken, 0);
  EXPECT_FALSE(hub_->CancelWait(&watcher));  // the wake ended the wait
  EXPECT_TRUE(hub_->CancelWait(&other));     // still waiting until now
  EXPECT_FALSE(hub_->CancelWait(&other));

  // Behind the head: refused, the caller reads again.
  EXPECT_FALSE(hub_->WaitForDyad("JPN-PRK", hub_->head() - 1, &watcher));
  // A correction may change any dyad (here: retracting b changes JPN-PRK,
  // though the correction's own actors are USA and RUS).
  ASSERT_TRUE(hub_->WaitForDyad("JPN-PRK", hub_->head(), &watcher));
  v1::Event correction = MakeMeeting("fix", "USA", "RUS");
  correction.clear_meeting();
  correction.mutable_correction()->set_corrects_event_id("b");
  correction.mutable_correction()->set_action(v1::Correction::ACTION_RETRACT);
  correction.mutable_correction()->set_reason("recorded in error");
  Append(std::move(correction));
  Settle();
  EXPECT_EQ(watcher.woken, 2);

  hub_->Unregister(&other);
  hub_->Unregister(&any);
}

TEST_F(HubTest, PacedCommitsWithinTheIntervalWakeTheirWaiterOnceAfterIt) {
  constexpr absl::Duration kInterval = absl::Seconds(2);
  StartPaced(kInterval);
  const absl::Time start = absl::Now();
  // After a quiet spell: at once.
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &subscriber_));
  Append("a");
  ASSERT_TRUE(Woken(1));

  // Two more commits soon after: one wake-up for both, once the interval
  // since the first has passed.
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &subscriber_));
  Append("b");
  Append("c");
  ASSERT_TRUE(Woken(2));
  EXPECT_GE(absl::Now() - start, kInterval);
  EXPECT_FALSE(hub_->CancelWait(&subscriber_));  // the wake ended the wait
  const services::SubscriptionHub::Fetched fetched = hub_->Fetch(2, 10);
  ASSERT_EQ(fetched.kind, services::SubscriptionHub::Fetched::Kind::kEvents);
  EXPECT_EQ(fetched.events.size(), 2u);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(subscriber_.woken, 2);
  EXPECT_EQ(hub_->wakeups(), 2u);
}

TEST_F(HubTest, PacedShutdownWakesWhatTheIntervalStillHolds) {
  StartPaced(absl::Hours(1));
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &subscriber_));
  Append("a");
  ASSERT_TRUE(Woken(1));
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &subscriber_));
  Append("b");  // held for up to an hour
  EXPECT_FALSE(hub_->CancelWait(&subscriber_))
      << "a held wake-up is no longer a wait to cancel";
  EXPECT_EQ(subscriber_.woken, 1);
  hub_->Shutdown();
  // Every wait ends with OnCommitted or a successful CancelWait.
  ASSERT_TRUE(Woken(2));
  // Commits after Shutdown (the log closes later) wake at once.
  ASSERT_TRUE(hub_->WaitForCommit(hub_->head(), &subscriber_));
  Append("c");
  ASSERT_TRUE(Woken(3));
}

}  // namespace
}  // namespace annals
