// EventLog.AppendSession against a real server over a loopback socket
// (sessions race shutdown and cancellation here: the in-process transport
// is not safe for that): order of acknowledgements across concurrent
// sessions, per-request errors that leave the session open, idempotent
// retries, the window, cancellation and shutdown.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/server/server.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::AppendRequest Request(std::vector<v1::Event> events,
                          const std::string& stream = "") {
  v1::AppendRequest request;
  request.set_stream(stream);
  for (auto& e : events) *request.add_events() = std::move(e);
  return request;
}

// The acknowledgements of one session with the index of the Append call
// each answers, in the order the callbacks ran.
class Acks {
 public:
  AppendSession::Done For(int index) {
    return [this, index](absl::StatusOr<v1::AppendResponse> result) {
      absl::MutexLock lock(&mu_);
      got_.emplace_back(index, std::move(result));
    };
  }
  std::vector<std::pair<int, absl::StatusOr<v1::AppendResponse>>> Get() {
    absl::MutexLock lock(&mu_);
    return got_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return got_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<int, absl::StatusOr<v1::AppendResponse>>> got_
      ABSL_GUARDED_BY(mu_);
};

class AppendSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("append_session_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    Start(services::AppendSessionOptions());
  }

  void Start(const services::AppendSessionOptions& session_options) {
    client_.reset();
    server_.reset();
    log_.reset();
    auto log = storage::OpenRocksEventLog(dir_.string(), storage::LogOptions());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.append_session = session_options;
    auto server = services::Server::Start(options, log_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(Channel(), absl::Seconds(30));
  }

  std::shared_ptr<grpc::Channel> Channel(
      grpc::ChannelArguments args = grpc::ChannelArguments()) {
    return grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()),
        grpc::InsecureChannelCredentials(), args);
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t Head() { return log_->GetHead().position; }

  std::filesystem::path dir_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(AppendSessionTest, AcksComeBackInOrderAcrossConcurrentSessions) {
  constexpr int kSessions = 4;
  constexpr int kRequests = 150;
  std::vector<Acks> acks(kSessions);
  std::vector<std::thread> threads;
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back([&, s] {
      std::unique_ptr<AppendSession> session = client_->OpenAppendSession(16);
      for (int i = 0; i < kRequests; ++i) {
        // Each session writes two streams, alternating: its requests are
        // not serialized by a stream.
        const std::string target = i % 2 == 0 ? "PRK" : "KOR";
        const std::string source = s % 2 == 0 ? "JPN" : "USA";
        std::vector<v1::Event> events;
        events.push_back(MakeMeeting(absl::StrCat("s", s, "-", i), source,
                                     target));
        if (i % 5 == 0) {
          events.push_back(MakeMeeting(absl::StrCat("s", s, "-", i, "b"),
                                       source, target));
        }
        session->Append(Request(std::move(events)), acks[s].For(i));
      }
      EXPECT_THAT(session->Finish(), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();

  uint64_t events = 0;
  for (int s = 0; s < kSessions; ++s) {
    const auto got = acks[s].Get();
    ASSERT_EQ(got.size(), static_cast<size_t>(kRequests));
    uint64_t last = 0;
    for (int i = 0; i < kRequests; ++i) {
      ASSERT_EQ(got[i].first, i) << "session " << s;
      ASSERT_THAT(got[i].second, IsOk());
      const v1::AppendResponse& response = *got[i].second;
      ASSERT_EQ(response.positions_size(), i % 5 == 0 ? 2 : 1);
      EXPECT_GT(response.positions(0), last) << "session " << s << " #" << i;
      last = response.positions(response.positions_size() - 1);
      EXPECT_GE(response.head(), last);
      EXPECT_FALSE(response.already_recorded());
      events += static_cast<uint64_t>(response.positions_size());
      // Readable afterwards, at the acknowledged position.
      auto recorded = client_->GetEvent(absl::StrCat("s", s, "-", i));
      ASSERT_THAT(recorded, IsOk());
      EXPECT_EQ(recorded->position(), response.positions(0));
      EXPECT_EQ(recorded->stream(), response.stream());
    }
  }
  EXPECT_EQ(Head(), events);
}

TEST_F(AppendSessionTest, PerRequestErrorsAreAnsweredAndTheSessionGoesOn) {
  ASSERT_THAT(client_->Append(Request({MakeMeeting("taken")})), IsOk());

  std::unique_ptr<AppendSession> session = client_->OpenAppendSession();
  Acks acks;
  session->Append(Request({MakeMeeting("first")}), acks.For(0));
  v1::Event no_summary = MakeMeeting("bad");
  no_summary.clear_summary();
  session->Append(Request({MakeMeeting("fine-but-batched"), no_summary}),
                  acks.For(1));
  v1::AppendRequest wrong_version = Request({MakeMeeting("versioned")});
  wrong_version.set_exact(7);
  session->Append(wrong_version, acks.For(2));
  v1::Event other_content = MakeMeeting("taken");
  other_content.set_summary("something else entirely");
  session->Append(Request({other_content}), acks.For(3));
  session->Append(v1::AppendRequest(), acks.For(4));  // no events
  session->Append(Request({MakeMeeting("last")}), acks.For(5));
  ASSERT_THAT(session->Finish(), IsOk());

  const auto got = acks.Get();
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(got[i].first, i);
  EXPECT_THAT(got[0].second, IsOk());
  // The error unary Append returns, field named relative to the request.
  ASSERT_THAT(got[1].second, StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("events[1].summary")));
  std::vector<std::string> fields;
  for (const auto& v : rpc::FieldViolations(got[1].second.status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("events[1].summary"));
  ASSERT_THAT(got[2].second, StatusIs(absl::StatusCode::kFailedPrecondition));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(got[2].second.status(), &info));
  EXPECT_EQ(info.reason(), "WRONG_EXPECTED_VERSION");
  EXPECT_EQ(info.metadata().at("current_version"), "2");
  ASSERT_THAT(got[3].second, StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_TRUE(rpc::GetErrorInfo(got[3].second.status(), &info));
  EXPECT_EQ(info.reason(), "DUPLICATE_EVENT_ID");
  EXPECT_THAT(got[4].second, StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("events")));
  ASSERT_THAT(got[5].second, IsOk());
  EXPECT_EQ(got[5].second->positions(0), 3u);

  // Nothing of the failed requests was written.
  EXPECT_EQ(Head(), 3u);
  EXPECT_THAT(client_->GetEvent("fine-but-batched"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->GetEvent("versioned"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(client_->GetEvent("taken")->event().summary(),
            MakeMeeting("taken").summary());
}

TEST_F(AppendSessionTest, ARequestWithoutAnAppendIsAnsweredNamingTheField) {
  auto stub = v1::EventLog::NewStub(Channel());
  grpc::ClientContext context;
  auto stream = stub->AppendSession(&context);
  v1::AppendSessionRequest empty;
  empty.set_correlation_id(41);
  ASSERT_TRUE(stream->Write(empty));
  v1::AppendSessionRequest good;
  good.set_correlation_id(42);
  *good.mutable_append() = Request({MakeMeeting("after")});
  ASSERT_TRUE(stream->Write(good));
  ASSERT_TRUE(stream->WritesDone());
  std::vector<v1::AppendAck> acks;
  v1::AppendSessionResponse response;
  while (stream->Read(&response)) {
    for (const v1::AppendAck& ack : response.acks()) acks.push_back(ack);
  }
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].correlation_id(), 41u);
  ASSERT_TRUE(acks[0].has_error());
  EXPECT_EQ(acks[0].error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(acks[0].error().message(), HasSubstr("append"));
  EXPECT_EQ(acks[1].correlation_id(), 42u);
  ASSERT_TRUE(acks[1].has_appended());
  EXPECT_EQ(acks[1].appended().positions(0), 1u);
}

TEST_F(AppendSessionTest, RetryOverASessionIsIdempotent) {
  std::unique_ptr<AppendSession> first = client_->OpenAppendSession();
  Acks acks;
  first->Append(Request({MakeMeeting("a"), MakeMeeting("b")}), acks.For(0));
  first->Append(Request({MakeMeeting("c", "USA", "PRK")}), acks.For(1));
  ASSERT_THAT(first->Finish(), IsOk());

  // The client lost the acknowledgements and retries on a new session.
  std::unique_ptr<AppendSession> retry = client_->OpenAppendSession();
  Acks again;
  retry->Append(Request({MakeMeeting("a"), MakeMeeting("b")}), again.For(0));
  retry->Append(Request({MakeMeeting("c", "USA", "PRK")}), again.For(1));
  ASSERT_THAT(retry->Finish(), IsOk());

  const auto original = acks.Get();
  const auto retried = again.Get();
  ASSERT_EQ(retried.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_THAT(retried[i].second, IsOk());
    EXPECT_TRUE(retried[i].second->already_recorded());
    EXPECT_EQ(retried[i].second->positions(0),
              original[i].second->positions(0));
  }
  EXPECT_EQ(Head(), 3u);
}

TEST_F(AppendSessionTest, AClientThatReadsNoAcksStallsOnlyItsOwnSession) {
  services::AppendSessionOptions options;
  options.window_requests = 64;
  Start(options);
  // The client's receive window stays at its initial 64 KiB: acks it does
  // not read stop the server's writes soon.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto stub = v1::EventLog::NewStub(Channel(args));
  grpc::ClientContext context;
  auto stream = stub->AppendSession(&context);
  constexpr int kRequests = 20000;
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      v1::AppendSessionRequest request;
      request.set_correlation_id(static_cast<uint64_t>(i));
      *request.mutable_append() =
          Request({MakeMeeting(absl::StrCat("w", i))}, "window-test");
      if (!stream->Write(request)) return;
      ++written;
    }
    stream->WritesDone();
  });

  // The server stops reading once its window is full and the acks it sent
  // are stuck: the head stops moving well short of what was sent.
  uint64_t head = Head();
  for (int stable = 0; stable < 5;) {
    absl::SleepFor(absl::Milliseconds(200));
    const uint64_t now = Head();
    stable = now == head ? stable + 1 : 0;
    head = now;
  }
  EXPECT_LT(head, static_cast<uint64_t>(kRequests) / 2);

  // Other sessions are not held up.
  std::unique_ptr<AppendSession> other = client_->OpenAppendSession();
  Acks acks;
  other->Append(Request({MakeMeeting("other")}), acks.For(0));
  ASSERT_THAT(other->Finish(), IsOk());
  ASSERT_THAT(acks.Get()[0].second, IsOk());

  // Reading the acks lets everything through, in order.
  uint64_t next = 0;
  v1::AppendSessionResponse response;
  while (stream->Read(&response)) {
    for (const v1::AppendAck& ack : response.acks()) {
      ASSERT_EQ(ack.correlation_id(), next);
      ASSERT_TRUE(ack.has_appended()) << ack.error().message();
      ++next;
    }
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(next, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(Head(), static_cast<uint64_t>(kRequests) + 1);
}

TEST_F(AppendSessionTest, CancellingASessionAnswersEveryAppendAndWritesNoHalf) {
  std::unique_ptr<AppendSession> session = client_->OpenAppendSession(64);
  Acks acks;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    session->Append(
        Request({MakeMeeting(absl::StrCat("c", i, "a")),
                 MakeMeeting(absl::StrCat("c", i, "b"))}),
        acks.For(i));
    if (i == 100) session->Cancel();
  }
  EXPECT_THAT(session->Finish(), StatusIs(absl::StatusCode::kCancelled));
  const auto got = acks.Get();
  ASSERT_EQ(got.size(), static_cast<size_t>(kRequests));
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(got[i].first, i);
    if (got[i].second.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(got[i].second,
                  AnyOf(StatusIs(absl::StatusCode::kCancelled),
                        StatusIs(absl::StatusCode::kFailedPrecondition)));
    }
  }
  EXPECT_LE(ok, 101);
  session.reset();

  // Every request the server read is committed whole or not at all, and
  // the server goes on serving.
  std::unique_ptr<AppendSession> next = client_->OpenAppendSession();
  Acks more;
  next->Append(Request({MakeMeeting("after-cancel")}), more.For(0));
  ASSERT_THAT(next->Finish(), IsOk());
  const uint64_t head = Head();
  EXPECT_EQ(head % 2, 1u);  // pairs, plus the last one
  for (int i = 0; i < kRequests; ++i) {
    const bool a = client_->GetEvent(absl::StrCat("c", i, "a")).ok();
    const bool b = client_->GetEvent(absl::StrCat("c", i, "b")).ok();
    EXPECT_EQ(a, b) << i;
    if (i < ok) {
      EXPECT_TRUE(a) << i;
    }
  }
}

// Finish and Cancel from two threads at once, with the server's end of
// the stream racing them: the call ends once, and every append is
// answered. (A write-done started after the call's last hold went made
// gRPC end the call twice: "Notify() method called more than once".)
TEST_F(AppendSessionTest, FinishAndCancelTogetherEndTheSessionOnce) {
  for (int round = 0; round < 5000; ++round) {
    std::unique_ptr<AppendSession> session = client_->OpenAppendSession();
    Acks acks;
    session->Append(Request({MakeMeeting(absl::StrCat("race-", round))}),
                    acks.For(0));
    std::thread canceller([&session] { session->Cancel(); });
    session->Finish().IgnoreError();
    canceller.join();
    session.reset();
    ASSERT_EQ(acks.size(), 1u) << "round " << round;
  }
}

TEST_F(AppendSessionTest, ShutdownAnswersWhatWasReadAndEndsEverySession) {
  // One idle session, one with appends in flight.
  std::unique_ptr<AppendSession> idle = client_->OpenAppendSession();
  Acks idle_acks;
  idle->Append(Request({MakeMeeting("idle-0")}), idle_acks.For(0));
  while (idle_acks.size() < 1) absl::SleepFor(absl::Milliseconds(5));

  std::unique_ptr<AppendSession> busy = client_->OpenAppendSession(32);
  Acks busy_acks;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread appender([&] {
    for (int i = 0; !stop.load(); ++i) {
      busy->Append(Request({MakeMeeting(absl::StrCat("busy-", i), "USA")}),
                   busy_acks.For(i));
      ++sent;
    }
  });
  while (busy_acks.size() < 50) absl::SleepFor(absl::Milliseconds(5));

  const absl::Time before = absl::Now();
  server_->Shutdown(absl::Seconds(20));
  // The sessions ended by themselves: no waiting for the deadline.
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));
  stop = true;
  appender.join();
  EXPECT_THAT(idle->Finish(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(busy->Finish(), StatusIs(absl::StatusCode::kUnavailable));

  // Every append is answered; what was acknowledged is in the log.
  const auto got = busy_acks.Get();
  ASSERT_EQ(got.size(), static_cast<size_t>(sent.load()));
  std::vector<uint64_t> acked;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, static_cast<int>(i));
    if (got[i].second.ok()) {
      acked.push_back(got[i].second->positions(0));
    } else {
      EXPECT_THAT(got[i].second, StatusIs(absl::StatusCode::kUnavailable));
    }
  }
  EXPECT_GE(acked.size(), 50u);
  for (uint64_t position : acked) {
    EXPECT_THAT(log_->GetEventAt(position), IsOk());
  }
  // New sessions are refused.
  std::unique_ptr<AppendSession> late = client_->OpenAppendSession();
  Acks late_acks;
  late->Append(Request({MakeMeeting("late")}), late_acks.For(0));
  EXPECT_FALSE(late->Finish().ok());
  EXPECT_FALSE(late_acks.Get()[0].second.ok());
}

}  // namespace
}  // namespace annals
