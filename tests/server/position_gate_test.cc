// Reads that wait for a position (services/server/position_gate.h), in
// process over a real log: a call carrying annals-min-position beyond the
// head is answered once an append reaches it; one that cannot be reached
// in time gets DEADLINE_EXCEEDED naming the position and the head; a value
// that is not a position is INVALID_ARGUMENT naming the header; a call
// without the header never waits.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/server/position_gate.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::testing::HasSubstr;

TEST(PositionGateTest, ReleasesWhenReachedOrAtTheDeadline) {
  services::PositionGate gate;
  gate.Reached(5);
  bool at_once = false;
  gate.WhenAt(5, absl::Now() + absl::Seconds(5),
              [&](bool reached, uint64_t head) {
                at_once = reached && head == 5;
              });
  EXPECT_TRUE(at_once);

  absl::Notification later;
  bool later_reached = false;
  gate.WhenAt(7, absl::Now() + absl::Seconds(5),
              [&](bool reached, uint64_t) {
                later_reached = reached;
                later.Notify();
              });
  gate.Reached(6);
  EXPECT_FALSE(later.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  gate.Reached(7);
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(later_reached);

  absl::Notification expired;
  uint64_t head_then = 0;
  const absl::Time start = absl::Now();
  gate.WhenAt(100, absl::Now() + absl::Milliseconds(100),
              [&](bool reached, uint64_t head) {
                EXPECT_FALSE(reached);
                head_then = head;
                expired.Notify();
              });
  ASSERT_TRUE(expired.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_EQ(head_then, 7u);
}

class MinPositionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/min_position_test_", getpid());
    std::filesystem::remove_all(dir_);
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.on_commit =
        [to_hub = hub_.CommitListener(), this](
            const std::vector<const v1::RecordedEvent*>& events,
            const storage::Head& head) {
          to_hub(events, head);
          gate_.Reached(head.position);
        };
    auto log = storage::OpenRocksEventLog(dir_, log_options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "";
    options.position_gate = &gate_;
    auto server = services::Server::Start(options, log_.get(), &hub_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    stub_ = v1::EventLog::NewStub(server_->InProcessChannel());
  }

  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Append(const std::string& id) {
    ASSERT_THAT(log_->Append({"JPN-PRK", storage::ExpectedVersion::Any(),
                              {MakeMeeting(id)}, "test"}),
                IsOk());
  }

  // ReadAll from position 1 with `min_position` ("" for none).
  grpc::Status ReadAll(const std::string& min_position, absl::Duration timeout,
                       v1::ReadAllResponse* response) {
    grpc::ClientContext context;
    if (!min_position.empty()) {
      context.AddMetadata(services::kMinPositionHeader, min_position);
    }
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    v1::ReadAllRequest request;
    request.set_limit(100);
    return stub_->ReadAll(&context, request, response);
  }

  std::string dir_;
  services::PositionGate gate_;
  services::SubscriptionHub hub_{services::SubscriptionOptions()};
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<v1::EventLog::Stub> stub_;
};

TEST_F(MinPositionTest, AReadWaitsUntilTheLogHoldsItsPosition) {
  Append("a");
  std::thread later([this] {
    absl::SleepFor(absl::Milliseconds(200));
    Append("b");
  });
  v1::ReadAllResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = ReadAll("2", absl::Seconds(10), &response);
  const absl::Duration took = absl::Now() - start;
  later.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(took, absl::Milliseconds(150));
  ASSERT_EQ(response.events_size(), 2);
  EXPECT_EQ(response.events(1).event().id(), "b");

  // Reached already, and no header at all: no wait.
  EXPECT_TRUE(ReadAll("2", absl::Seconds(10), &response).ok());
  EXPECT_TRUE(ReadAll("", absl::Seconds(10), &response).ok());
}

TEST_F(MinPositionTest, APositionNotReachedInTimeOrNotANumberIsRefused) {
  Append("a");
  v1::ReadAllResponse response;
  grpc::Status late = ReadAll("9", absl::Milliseconds(300), &response);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  grpc::Status bad = ReadAll("soon", absl::Seconds(10), &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("annals-min-position"));
  EXPECT_THAT(bad.error_message(), HasSubstr("'soon'"));
}

}  // namespace
}  // namespace annals
