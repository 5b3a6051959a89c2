// In-process gRPC tests of the EventLog service: every RPC, every error, and
// that an error writes nothing. The server runs on a real RocksDB log in a
// temporary directory; the client talks to it over the in-process channel.
#include <filesystem>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const rpc::FieldViolation& v : rpc::FieldViolations(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

class EventLogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("service_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->random_seed(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    auto log = storage::OpenRocksEventLog(dir_.string(), storage::LogOptions());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);

    services::ServerOptions options;
    options.listen = "";  // in-process only
    options.limits.max_append_events = 5;
    options.limits.max_event_bytes = 2048;
    auto server = services::Server::Start(options, log_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(server_->InProcessChannel(),
                                       absl::Seconds(10));
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::AppendRequest Request(std::vector<v1::Event> events,
                            const std::string& stream = "") {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (auto& e : events) *request.add_events() = std::move(e);
    return request;
  }

  uint64_t Head() {
    v1::ReadAllRequest request;
    request.set_direction(v1::DIRECTION_BACKWARD);
    auto response = client_->ReadAll(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? response->head() : 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(EventLogServiceTest, AppendAssignsEnvelopeAndGetEventReturnsIt) {
  auto response = client_->Append(Request({MakeMeeting("summit-2002")}));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->stream(), "JPN-PRK");  // derived primary dyad
  EXPECT_THAT(response->positions(), ElementsAre(1));
  EXPECT_EQ(response->stream_version(), 1u);
  EXPECT_FALSE(response->already_recorded());
  EXPECT_EQ(response->head(), 1u);

  auto recorded = client_->GetEvent("summit-2002");
  ASSERT_THAT(recorded, IsOk());
  EXPECT_EQ(recorded->position(), 1u);
  EXPECT_EQ(recorded->stream(), "JPN-PRK");
  EXPECT_EQ(recorded->stream_version(), 1u);
  EXPECT_GT(recorded->recorded_at().seconds(), 1700000000);
  EXPECT_THAT(recorded->principal(), HasSubstr("anonymous"));
  EXPECT_THAT(recorded->hash(), SizeIs(32));
  EXPECT_EQ(recorded->event().summary(), MakeMeeting("summit-2002").summary());
  // The server derived and recorded the date precision.
  EXPECT_EQ(recorded->event().occurred().precision(), v1::DATE_PRECISION_DAY);
}

TEST_F(EventLogServiceTest, AppendAsyncAnswersEachCallOnceAsAppendWould) {
  v1::Event no_summary = MakeMeeting("no-summary");
  no_summary.clear_summary();
  std::vector<v1::AppendRequest> requests;
  for (int i = 0; i < 8; ++i) {
    requests.push_back(Request({MakeMeeting(absl::StrCat("async-", i))}));
  }
  requests.push_back(Request({no_summary}));
  absl::Mutex mu;
  std::vector<std::vector<absl::StatusOr<v1::AppendResponse>>> answers(
      requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    client_->AppendAsync(requests[i],
                         [&, i](absl::StatusOr<v1::AppendResponse> answer) {
                           absl::MutexLock lock(&mu);
                           answers[i].push_back(std::move(answer));
                         });
  }
  const auto all_answered = [&] {
    for (const auto& a : answers) {
      if (a.empty()) return false;
    }
    return true;
  };
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_answered),
                                    absl::Seconds(10)));
  }
  std::vector<uint64_t> positions;
  for (size_t i = 0; i + 1 < requests.size(); ++i) {
    absl::MutexLock lock(&mu);
    ASSERT_THAT(answers[i], SizeIs(1));
    ASSERT_THAT(answers[i][0], IsOk());
    ASSERT_THAT(answers[i][0]->positions(), SizeIs(1));
    positions.push_back(answers[i][0]->positions(0));
    // What unary Append answers the same request once it is recorded.
    auto again = client_->Append(requests[i]);
    ASSERT_THAT(again, IsOk());
    EXPECT_TRUE(again->already_recorded());
    EXPECT_THAT(again->positions(), ElementsAre(positions.back()));
  }
  EXPECT_THAT(positions, UnorderedElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  absl::MutexLock lock(&mu);
  ASSERT_THAT(answers.back(), SizeIs(1));
  EXPECT_THAT(answers.back()[0], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ViolatedFields(answers.back()[0].status()),
              ElementsAre("events[0].summary"));
  EXPECT_EQ(Head(), 8u);
}

TEST_F(EventLogServiceTest, BatchGetsConsecutivePositionsAndVersions) {
  ASSERT_THAT(client_->Append(Request({MakeMeeting("a", "USA", "PRK")})),
              IsOk());
  auto response = client_->Append(
      Request({MakeMeeting("b"), MakeMeeting("c"), MakeMeeting("d")}));
  ASSERT_THAT(response, IsOk());
  EXPECT_THAT(response->positions(), ElementsAre(2, 3, 4));
  EXPECT_EQ(response->stream_version(), 3u);
}

TEST_F(EventLogServiceTest, InvalidEventsAreRejectedNamingEveryFieldAndWriteNothing) {
  v1::Event no_summary = MakeMeeting("ok-id");
  no_summary.clear_summary();
  v1::Event bad_month = MakeMeeting("other-id");
  bad_month.mutable_occurred()->mutable_start()->set_month(13);
  bad_month.set_target(0, "XXX");

  auto response = client_->Append(
      Request({MakeMeeting("fine"), no_summary, bad_month}));
  ASSERT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ViolatedFields(response.status()),
              UnorderedElementsAre("events[1].summary",
                                   "events[2].occurred.start.month",
                                   "events[2].target[0]"));
  EXPECT_THAT(std::string(response.status().message()),
              HasSubstr("events[1].summary"));
  EXPECT_EQ(Head(), 0u);
  EXPECT_THAT(client_->GetEvent("fine"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EventLogServiceTest, EmptyAppendAndBadStreamNameAreInvalid) {
  v1::AppendRequest empty;
  EXPECT_THAT(ViolatedFields(client_->Append(empty).status()),
              ElementsAre("events"));
  auto response = client_->Append(Request({MakeMeeting("x")}, "no spaces"));
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ViolatedFields(response.status()), ElementsAre("stream"));
}

TEST_F(EventLogServiceTest, WrongExpectedVersionReportsCurrentVersion) {
  ASSERT_THAT(client_->Append(Request({MakeMeeting("a"), MakeMeeting("b")})),
              IsOk());
  v1::AppendRequest request = Request({MakeMeeting("c")});
  request.set_exact(1);
  auto response = client_->Append(request);
  ASSERT_THAT(response, StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("version 2")));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(response.status(), &info));
  EXPECT_EQ(info.reason(), "WRONG_EXPECTED_VERSION");
  EXPECT_EQ(info.metadata().at("stream"), "JPN-PRK");
  EXPECT_EQ(info.metadata().at("current_version"), "2");
  EXPECT_EQ(info.metadata().at("expected"), "1");
  EXPECT_EQ(Head(), 2u);

  request.set_exact(2);
  EXPECT_THAT(client_->Append(request), IsOk());
}

TEST_F(EventLogServiceTest, NoStreamAndStreamExistsAreChecked) {
  v1::AppendRequest exists = Request({MakeMeeting("a")});
  exists.mutable_stream_exists();
  EXPECT_THAT(client_->Append(exists),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  v1::AppendRequest none = Request({MakeMeeting("a")});
  none.mutable_no_stream();
  ASSERT_THAT(client_->Append(none), IsOk());

  v1::AppendRequest none_again = Request({MakeMeeting("b")});
  none_again.mutable_no_stream();
  EXPECT_THAT(client_->Append(none_again),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  v1::AppendRequest exists_now = Request({MakeMeeting("b")});
  exists_now.mutable_stream_exists();
  EXPECT_THAT(client_->Append(exists_now), IsOk());
}

TEST_F(EventLogServiceTest, RetryWithSameContentReturnsOriginalPositions) {
  auto first = client_->Append(Request({MakeMeeting("a"), MakeMeeting("b")}));
  ASSERT_THAT(first, IsOk());
  auto retry = client_->Append(Request({MakeMeeting("a"), MakeMeeting("b")}));
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->already_recorded());
  EXPECT_THAT(retry->positions(), ElementsAre(1, 2));
  EXPECT_EQ(Head(), 2u);
}

TEST_F(EventLogServiceTest, SameIdWithOtherContentIsAlreadyExists) {
  ASSERT_THAT(client_->Append(Request({MakeMeeting("a")})), IsOk());
  v1::Event changed = MakeMeeting("a");
  changed.set_summary("Something else entirely");
  auto response = client_->Append(Request({changed}));
  ASSERT_THAT(response, StatusIs(absl::StatusCode::kAlreadyExists));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(response.status(), &info));
  EXPECT_EQ(info.reason(), "DUPLICATE_EVENT_ID");
  EXPECT_EQ(info.metadata().at("event_id"), "a");
  EXPECT_EQ(info.metadata().at("position"), "1");
  EXPECT_EQ(Head(), 1u);
}

TEST_F(EventLogServiceTest, OversizeRequestsAreResourceExhaustedAndWriteNothing) {
  v1::Event big = MakeMeeting("big");
  big.mutable_meeting()->set_place(std::string(3000, 'x'));
  EXPECT_THAT(client_->Append(Request({big})),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("events[0]")));

  std::vector<v1::Event> six;
  for (int i = 0; i < 6; ++i) six.push_back(MakeMeeting(absl::StrCat("e", i)));
  EXPECT_THAT(client_->Append(Request(six)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Head(), 0u);
}

TEST_F(EventLogServiceTest, ReadStreamPagesForwardAndBackward) {
  ASSERT_THAT(client_->Append(Request({MakeMeeting("x", "USA", "PRK")})),
              IsOk());
  ASSERT_THAT(client_->Append(Request({MakeMeeting("a"), MakeMeeting("b"),
                                       MakeMeeting("c")})),
              IsOk());
  v1::ReadStreamRequest request;
  request.set_stream("JPN-PRK");
  request.set_limit(2);
  auto page = client_->ReadStream(request);
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->events(), SizeIs(2));
  EXPECT_EQ(page->events(0).event().id(), "a");
  EXPECT_EQ(page->events(1).event().id(), "b");
  EXPECT_EQ(page->events(0).position(), 2u);
  EXPECT_EQ(page->next_version(), 3u);
  EXPECT_EQ(page->stream_version(), 3u);
  EXPECT_FALSE(page->end_of_stream());

  request.set_from_version(page->next_version());
  page = client_->ReadStream(request);
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->events(), SizeIs(1));
  EXPECT_EQ(page->events(0).event().id(), "c");
  EXPECT_TRUE(page->end_of_stream());

  request.set_from_version(0);
  request.set_direction(v1::DIRECTION_BACKWARD);
  request.set_limit(10);
  page = client_->ReadStream(request);
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->events(), SizeIs(3));
  EXPECT_EQ(page->events(0).event().id(), "c");
  EXPECT_EQ(page->events(2).event().id(), "a");
  EXPECT_TRUE(page->end_of_stream());

  request.set_stream("CHN-PRK");
  page = client_->ReadStream(request);
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->events(), SizeIs(0));
  EXPECT_EQ(page->stream_version(), 0u);
}

TEST_F(EventLogServiceTest, ReadAllPagesForwardAndBackward) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(client_->Append(Request({MakeMeeting(absl::StrCat("e", i))})),
                IsOk());
  }
  v1::ReadAllRequest request;
  request.set_limit(2);
  std::vector<uint64_t> forward;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = client_->ReadAll(request);
    ASSERT_THAT(page, IsOk());
    EXPECT_EQ(page->head(), 5u);
    for (const auto& e : page->events()) forward.push_back(e.position());
    if (page->end_of_log()) break;
    request.set_from_position(page->next_position());
  }
  EXPECT_THAT(forward, ElementsAre(1, 2, 3, 4, 5));

  request.set_from_position(0);
  request.set_direction(v1::DIRECTION_BACKWARD);
  request.set_limit(3);
  auto page = client_->ReadAll(request);
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->events(), SizeIs(3));
  EXPECT_EQ(page->events(0).position(), 5u);
  EXPECT_EQ(page->events(2).position(), 3u);
  EXPECT_EQ(page->next_position(), 2u);
  EXPECT_FALSE(page->end_of_log());
}

TEST_F(EventLogServiceTest, ReadRequestsAreValidated) {
  v1::ReadAllRequest all;
  all.set_limit(1001);
  EXPECT_THAT(ViolatedFields(client_->ReadAll(all).status()),
              ElementsAre("limit"));
  all.set_limit(1);
  all.set_direction(static_cast<v1::Direction>(7));
  EXPECT_THAT(ViolatedFields(client_->ReadAll(all).status()),
              ElementsAre("direction"));

  v1::ReadStreamRequest stream;
  EXPECT_THAT(ViolatedFields(client_->ReadStream(stream).status()),
              ElementsAre("stream"));
}

TEST_F(EventLogServiceTest, GetEventOfUnknownIdIsNotFoundAndEmptyIdInvalid) {
  EXPECT_THAT(client_->GetEvent("nope"), StatusIs(absl::StatusCode::kNotFound));
  auto empty = client_->GetEvent("");
  EXPECT_THAT(empty, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ViolatedFields(empty.status()), ElementsAre("id"));
}

TEST_F(EventLogServiceTest, AppendAfterLogClosedIsUnavailable) {
  log_->Close();
  EXPECT_THAT(client_->Append(Request({MakeMeeting("late")})),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(EventLogServiceTest, HealthServiceReportsServing) {
  auto status = client_->Health();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(*status, "SERVING");
}

TEST_F(EventLogServiceTest, ReflectionListsTheEventLogService) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  const std::string request_bytes("\x3a\x00", 2);
  grpc::GenericStub stub(server_->InProcessChannel());
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  auto step = [&](int id) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    ASSERT_EQ(tag, reinterpret_cast<void*>(static_cast<intptr_t>(id)));
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  step(2);
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  step(3);
  ASSERT_TRUE(ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string response;
  for (const auto& s : slices) {
    response.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_THAT(response, HasSubstr("annals.v1.EventLog"));
  EXPECT_THAT(response, HasSubstr("grpc.health.v1.Health"));
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  step(4);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// Shutdown while appends are in flight: every acknowledged batch is in the
// log after reopening, and no batch is there only in part.
TEST(ServerShutdownTest, AppendsInFlightAreCommittedOrFailedNeverHalf) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/shutdown_test_",
                                       getpid());
  std::filesystem::remove_all(dir);
  auto log = storage::OpenRocksEventLog(dir, storage::LogOptions());
  ASSERT_TRUE(log.ok()) << log.status();
  // A real socket: gRPC's in-process transport does not survive calls that
  // race the server's shutdown, and clients reach annalsd over sockets.
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = services::Server::Start(options, log->get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  constexpr int kWriters = 8;
  constexpr int kBatch = 3;
  std::vector<std::vector<std::string>> acknowledged(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ClientOptions options;
      options.server = address;
      options.deadline = absl::Seconds(5);
      auto connected = Client::Connect(options);
      ASSERT_TRUE(connected.ok()) << connected.status();
      Client& client = **connected;
      for (int i = 0;; ++i) {
        v1::AppendRequest request;
        const std::string batch = absl::StrCat("w", w, "-b", i);
        for (int k = 0; k < kBatch; ++k) {
          *request.add_events() = MakeMeeting(absl::StrCat(batch, "-e", k));
        }
        if (!client.Append(request).ok()) return;
        acknowledged[w].push_back(batch);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->Shutdown(absl::Milliseconds(200));
  for (auto& t : writers) t.join();
  server->reset();
  log->reset();

  log = storage::OpenRocksEventLog(dir, storage::LogOptions());
  ASSERT_TRUE(log.ok()) << log.status();
  ANNALS_EXPECT_OK((*log)->VerifyChain());
  size_t total = 0;
  for (const auto& batches : acknowledged) {
    total += batches.size();
    for (const std::string& batch : batches) {
      EXPECT_THAT((*log)->GetEvent(batch + "-e0"), IsOk()) << batch;
    }
  }
  EXPECT_GT(total, 0u);
  // Every batch in the log is whole: its events sit at consecutive positions.
  absl::flat_hash_map<std::string, std::vector<uint64_t>> positions;
  for (uint64_t from = 1;;) {
    auto page = (*log)->ReadAll(from, storage::Direction::kForward, 1000);
    ASSERT_THAT(page, IsOk());
    for (const auto& e : page->events) {
      const std::string& id = e.event().id();
      positions[id.substr(0, id.rfind('-'))].push_back(e.position());
    }
    if (page->end) break;
    from = page->next;
  }
  EXPECT_GE(positions.size(), total);
  for (const auto& [batch, at] : positions) {
    ASSERT_EQ(at.size(), static_cast<size_t>(kBatch)) << batch;
    EXPECT_EQ(at[2], at[0] + 2) << batch;
  }
  log->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace annals
