// What one client may take of annalsd, over a real log and real sockets
// (each channel its own connection): streams per connection and append
// request bytes in flight (services/admission) — a refusal is
// RESOURCE_EXHAUSTED with ErrorInfo naming the limit and a RetryInfo hint,
// and nothing refused is written — and the cost of subscribers that stop
// reading.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

// A RESOURCE_EXHAUSTED refusal with `reason` and a retry hint.
void ExpectRefused(const absl::Status& status, const std::string& reason) {
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(status, &info)) << status;
  EXPECT_EQ(info.reason(), reason);
  EXPECT_THAT(rpc::RetryDelay(status), Optional(absl::Seconds(1)));
}

// An append of about `bytes`: events of 4 KiB summaries (the most a
// summary may hold), ids `id`-0, `id`-1, ...
v1::AppendRequest BigAppend(const std::string& id, size_t bytes) {
  v1::AppendRequest request;
  for (size_t i = 0; i * 4096 < bytes; ++i) {
    v1::Event* event = request.add_events();
    *event = MakeMeeting(absl::StrCat(id, "-", i), "JPN", "PRK");
    event->set_summary(std::string(std::min<size_t>(4096, bytes - i * 4096), 's'));
  }
  return request;
}

class OneClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("one_client_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd's server with `admission`; while Hold() is on, the
  // log's writer waits before each commit group.
  void Start(const services::AdmissionOptions& admission) {
    hub_ = std::make_unique<services::SubscriptionHub>(
        services::SubscriptionOptions());
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.on_commit = hub_->CommitListener();
    log_options.before_group = [this] {
      absl::MutexLock lock(&mu_);
      ++groups_waiting_;
      mu_.Await(absl::Condition(
          +[](bool* held) { return !*held; }, &held_));
      --groups_waiting_;
    };
    auto log = storage::OpenRocksEventLog(dir_.string(), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.admission = admission;
    auto server = services::Server::Start(options, log_.get(), hub_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    Release();
    server_.reset();
    log_.reset();
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A client over a connection of its own.
  std::unique_ptr<Client> Connect(
      grpc::ChannelArguments args = grpc::ChannelArguments()) {
    args.SetInt("annals.test.connection", next_connection_++);
    return std::make_unique<Client>(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                  grpc::InsecureChannelCredentials(), args),
        absl::Seconds(30));
  }

  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Waits until the writer holds a group (an append is in flight).
  void AwaitGroupHeld() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* waiting) { return *waiting > 0; }, &groups_waiting_));
  }

  std::filesystem::path dir_;
  std::unique_ptr<services::SubscriptionHub> hub_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  int next_connection_ = 0;
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int groups_waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// A subscription from now on its own thread, until Cancel.
class OpenSubscription {
 public:
  explicit OpenSubscription(Client* client)
      : stub_(v1::Subscriptions::NewStub(client->channel())) {
    thread_ = std::thread([this] {
      v1::SubscribeRequest request;
      request.mutable_from_now();
      auto reader = stub_->Subscribe(&context_, request);
      v1::SubscribeResponse message;
      while (reader->Read(&message)) {
        if (message.has_caught_up() && !caught_up_.HasBeenNotified()) {
          caught_up_.Notify();
        }
      }
      status_ = rpc::FromGrpcStatus(reader->Finish());
      done_.Notify();  // first: AwaitOpen reads it once caught_up_ is
      if (!caught_up_.HasBeenNotified()) caught_up_.Notify();
    });
  }
  ~OpenSubscription() {
    Cancel();
    thread_.join();
  }
  // OK once caught up; the call's status when it ended first.
  absl::Status AwaitOpen() {
    caught_up_.WaitForNotification();
    return done_.HasBeenNotified() ? status_ : absl::OkStatus();
  }
  absl::Status AwaitDone() {
    done_.WaitForNotification();
    return status_;
  }
  void Cancel() { context_.TryCancel(); }

 private:
  std::unique_ptr<v1::Subscriptions::Stub> stub_;
  grpc::ClientContext context_;
  absl::Notification caught_up_, done_;
  absl::Status status_;
  std::thread thread_;
};

TEST_F(OneClientTest, OneConnectionCannotTakeEveryStream) {
  services::AdmissionOptions admission;
  admission.max_streams_per_connection = 2;
  Start(admission);
  std::unique_ptr<Client> greedy = Connect();
  std::vector<std::unique_ptr<OpenSubscription>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(std::make_unique<OpenSubscription>(greedy.get()));
    ASSERT_THAT(open.back()->AwaitOpen(), IsOk());
  }

  // Every kind of stream is refused on that connection now.
  OpenSubscription third(greedy.get());
  absl::Status refused = third.AwaitOpen();
  ExpectRefused(refused, "TOO_MANY_STREAMS");
  EXPECT_THAT(refused.message(), HasSubstr("--max_streams_per_connection"));
  v1::WatchRelationshipRequest watch;
  watch.set_dyad("JPN-PRK");
  ExpectRefused(greedy->WatchRelationship(
                    watch, [](const v1::WatchRelationshipResponse&) {
                      return false;
                    }),
                "TOO_MANY_STREAMS");
  std::unique_ptr<AppendSession> session = greedy->OpenAppendSession();
  ExpectRefused(session->Finish(), "TOO_MANY_STREAMS");
  // Unary calls still pass on it.
  EXPECT_THAT(greedy->Append(BigAppend("unary-1", 10)).status(), IsOk());

  // Another connection opens streams as usual.
  std::unique_ptr<Client> other = Connect();
  OpenSubscription elsewhere(other.get());
  EXPECT_THAT(elsewhere.AwaitOpen(), IsOk());

  // Once one of the greedy connection's streams ends, it may open another.
  open.front()->Cancel();
  EXPECT_THAT(open.front()->AwaitDone(),
              StatusIs(absl::StatusCode::kCancelled));
  absl::Status reopened;
  for (int attempt = 0; attempt < 100; ++attempt) {
    OpenSubscription again(greedy.get());
    reopened = again.AwaitOpen();
    if (reopened.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));  // OnDone runs after the end
  }
  EXPECT_THAT(reopened, IsOk());
}

TEST_F(OneClientTest, AppendsPastTheBytesInFlightAreRefusedUntilRoom) {
  services::AdmissionOptions admission;
  admission.request_bytes_in_flight = 64 << 10;
  Start(admission);
  std::unique_ptr<Client> first = Connect();
  std::unique_ptr<Client> second = Connect();

  // One request larger than the whole budget passes when it is alone.
  ASSERT_THAT(first->Append(BigAppend("alone", 50 << 10)).status(), IsOk());

  Hold();
  absl::StatusOr<v1::AppendResponse> held;
  std::thread in_flight([&] { held = first->Append(BigAppend("a", 40 << 10)); });
  AwaitGroupHeld();
  // 40 KiB in flight: 40 more would pass 64 KiB.
  absl::StatusOr<v1::AppendResponse> refused =
      second->Append(BigAppend("b", 40 << 10));
  ExpectRefused(refused.status(), "REQUEST_BYTES_IN_FLIGHT");
  EXPECT_THAT(refused.status().message(),
              HasSubstr("--max_request_mb_in_flight"));
  // An AppendSession request is refused alike, alone: the session goes on.
  std::unique_ptr<AppendSession> session = second->OpenAppendSession();
  absl::Notification answered;
  absl::Status session_refusal;
  session->Append(BigAppend("c", 40 << 10),
                  [&](absl::StatusOr<v1::AppendResponse> result) {
                    session_refusal = result.status();
                    answered.Notify();
                  });
  answered.WaitForNotification();
  ExpectRefused(session_refusal, "REQUEST_BYTES_IN_FLIGHT");

  // A client that waits for room is admitted once the held append is
  // durable.
  absl::StatusOr<v1::AppendResponse> patient;
  std::thread waiting([&] {
    patient = second->AppendWhenAdmitted(BigAppend("d", 40 << 10),
                                         absl::Seconds(30));
  });
  absl::SleepFor(absl::Milliseconds(300));  // refused at least once

  Release();
  in_flight.join();
  waiting.join();
  ASSERT_THAT(held.status(), IsOk());
  EXPECT_THAT(patient.status(), IsOk());
  // Room again: the refused requests pass when retried.
  EXPECT_THAT(second->Append(BigAppend("b", 40 << 10)).status(), IsOk());
  absl::Notification retried;
  absl::Status retry_status;
  session->Append(BigAppend("c", 40 << 10),
                  [&](absl::StatusOr<v1::AppendResponse> result) {
                    retry_status = result.status();
                    retried.Notify();
                  });
  retried.WaitForNotification();
  EXPECT_THAT(retry_status, IsOk());
  EXPECT_THAT(session->Finish(), IsOk());
  // Nothing refused was written: alone (13 events), a, b, c, d (10 each).
  EXPECT_EQ(log_->GetHead().position, 53u);
}

// A Subscribe call from now, one event per message, that reads nothing
// until Resume(): once its HTTP/2 window is full, annalsd's write to it
// stays in flight.
class StalledSubscriber final
    : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  StalledSubscriber(v1::Subscriptions::Stub* stub) {
    v1::SubscribeRequest request;
    request.mutable_from_now();
    request.set_max_events_per_message(1);
    stub->async()->Subscribe(&context_, &request, this);
    StartCall();
  }
  ~StalledSubscriber() {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

  // Reads from now on, counting events.
  void Resume() { StartRead(&message_); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      absl::MutexLock lock(&mu_);
      if (message_.has_event()) {
        positions_.push_back(message_.event().position());
      }
    }
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& /*status*/) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  // The positions of the events read, once `count` arrived.
  std::vector<uint64_t> AwaitEvents(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return positions_.size() >= count || done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
    return positions_;
  }

 private:
  grpc::ClientContext context_;
  v1::SubscribeResponse message_;
  absl::Mutex mu_;
  std::vector<uint64_t> positions_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

TEST_F(OneClientTest, AStalledSubscriberCostsNothingUntilItsTransportHasRoom) {
  Start(services::AdmissionOptions());
  // Windows of 16 KiB, fixed (gRPC's BDP probing would grow them to
  // megabytes): about 15 events of 1 KiB fill one.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::unique_ptr<Client> reader = Connect(args);
  std::unique_ptr<v1::Subscriptions::Stub> stub =
      v1::Subscriptions::NewStub(reader->channel());
  constexpr int kStalled = 20;
  std::vector<std::unique_ptr<StalledSubscriber>> stalled;
  for (int i = 0; i < kStalled; ++i) {
    stalled.push_back(std::make_unique<StalledSubscriber>(stub.get()));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (hub_->subscriptions() < kStalled && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(hub_->subscriptions(), static_cast<size_t>(kStalled));
  std::unique_ptr<Client> writer = Connect();
  // Enough to fill every window and the server's buffers: 200 KiB each.
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(writer->Append(BigAppend(absl::StrCat("fill-", i), 1024))
                    .status(),
                IsOk());
  }
  const uint64_t woken_filling = hub_->wakeups();
  // Settled: nothing more wakes them.
  absl::SleepFor(absl::Milliseconds(200));
  const uint64_t settled = hub_->wakeups();

  // 200 commits more: a subscriber woken at each would cost 4,000 wake-ups.
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(writer->Append(BigAppend(absl::StrCat("more-", i), 1024))
                    .status(),
                IsOk());
  }
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_GT(woken_filling, 0u);
  EXPECT_LE(hub_->wakeups() - settled, static_cast<uint64_t>(kStalled))
      << "stalled subscribers were woken by commits they could not send";

  // Given room, a stalled subscriber gets every event, in order.
  stalled.front()->Resume();
  const std::vector<uint64_t> positions = stalled.front()->AwaitEvents(400);
  ASSERT_EQ(positions.size(), 400u);
  for (size_t i = 0; i < positions.size(); ++i) {
    ASSERT_EQ(positions[i], i + 1) << "at " << i;
  }
}

}  // namespace
}  // namespace annals
