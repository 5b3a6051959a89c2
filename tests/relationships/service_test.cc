// In-process gRPC tests of the Relationships and Admin services: they are
// served, answer from the projections the appends wrote, and their errors
// reach the client with the field named.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/projection.h"
#include "services/relationships/projector.h"
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

class RelationshipServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("relationship_service_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.projector = &projector_;
    auto log = storage::OpenRocksEventLog(dir_.string(), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "";  // in-process only
    options.relationship_answers = projector_.answers();
    auto server = services::Server::Start(options, log_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(server_->InProcessChannel(),
                                       absl::Seconds(10));

    v1::AppendRequest append;
    append.set_stream("korea-talks");
    *append.add_events() = MakeMeeting("summit-1");
    v1::Event second = MakeMeeting("summit-2");
    second.mutable_occurred()->mutable_start()->set_year(2004);
    *append.add_events() = second;
    *append.add_events() = MakeMeeting("us-summit", "USA", "PRK");
    ASSERT_THAT(client_->Append(append), IsOk());
  }

  // GetRelationship called with `request` as raw bytes; `wire` gets the
  // answer's bytes as they came.
  grpc::Status RawGetRelationship(const std::string& request,
                                  std::string* wire) {
    grpc::GenericStub generic(server_->InProcessChannel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice slice(request.data(), request.size());
    grpc::ByteBuffer raw(&slice, 1), answer;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, "/annals.v1.Relationships/GetRelationship",
                      grpc::StubOptions(), &raw, &answer,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    std::vector<grpc::Slice> slices;
    if (status.ok() && answer.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        wire->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  services::RelationshipProjector projector_{1 << 20};  // answers kept
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(RelationshipServiceTest, GetRelationshipNowAndAsOf) {
  v1::GetRelationshipRequest request;
  request.set_dyad("PRK-JPN");
  auto now = client_->GetRelationship(request);
  ASSERT_THAT(now, IsOk());
  EXPECT_EQ(now->state().dyad(), "JPN-PRK");
  EXPECT_EQ(now->state().event_count(), 2);
  EXPECT_EQ(now->state().leaders_meeting_count(), 2);
  EXPECT_EQ(now->head(), 3u);
  // Served from the stored bytes: the index is the state's current one.
  EXPECT_EQ(now->index().SerializeAsString(),
            services::CurrentIndexOf(now->state()).SerializeAsString());
  EXPECT_EQ(now->index().event_count(), 1);  // 2004 only: twelve months

  v1::GetRelationshipRequest untouched;
  untouched.set_dyad("FRA-JPN");
  auto none = client_->GetRelationship(untouched);
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->state().dyad(), "FRA-JPN");
  EXPECT_EQ(none->state().event_count(), 0);
  EXPECT_EQ(none->head(), 3u);

  request.mutable_as_of_date()->set_year(2003);
  auto then = client_->GetRelationship(request);
  ASSERT_THAT(then, IsOk());
  EXPECT_EQ(then->state().event_count(), 1);

  request.set_as_of_position(1);
  auto at = client_->GetRelationship(request);
  ASSERT_THAT(at, IsOk());
  EXPECT_EQ(at->state().event_count(), 1);
  EXPECT_EQ(at->head(), 1u);
}

// The current state goes out as one length-delimited `state` field, read
// from storage and kept alike: decoders that do not merge repeated
// occurrences of an embedded message (protobufjs keeps the last) see the
// whole state, series included.
TEST_F(RelationshipServiceTest, GetRelationshipSendsTheStateOnce) {
  v1::GetRelationshipRequest request;
  request.set_dyad("JPN-PRK");
  for (const char* read : {"from storage", "kept"}) {
    SCOPED_TRACE(read);
    std::string wire;
    const grpc::Status status =
        RawGetRelationship(request.SerializeAsString(), &wire);
    ASSERT_TRUE(status.ok()) << status.error_message();

    google::protobuf::UnknownFieldSet fields;
    ASSERT_TRUE(fields.ParseFromString(wire));
    int states = 0;
    std::string state_bytes;
    for (int i = 0; i < fields.field_count(); ++i) {
      if (fields.field(i).number() != 1) continue;
      ++states;
      state_bytes = fields.field(i).length_delimited();
    }
    EXPECT_EQ(states, 1);
    v1::RelationshipState state;  // the last occurrence, as protobufjs keeps
    ASSERT_TRUE(state.ParseFromString(state_bytes));
    EXPECT_EQ(state.dyad(), "JPN-PRK");
    EXPECT_EQ(state.event_count(), 2);
    EXPECT_EQ(state.goldstein_monthly_size(), 2);  // 2002-09 and 2004-09
  }
  EXPECT_EQ(projector_.answers()->kept(), 1u);
}

// The answer kept for a dyad is dropped by the next commit that changes
// the dyad: the next GetRelationship includes it.
TEST_F(RelationshipServiceTest, AKeptAnswerGivesWayToTheNextChange) {
  v1::GetRelationshipRequest request;
  request.set_dyad("JPN-PRK");
  auto first = client_->GetRelationship(request);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->state().event_count(), 2);
  EXPECT_EQ(projector_.answers()->kept(), 1u);
  auto again = client_->GetRelationship(request);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->SerializeAsString(), first->SerializeAsString());

  v1::AppendRequest append;
  *append.add_events() = MakeMeeting("summit-3");
  ASSERT_THAT(client_->Append(append), IsOk());
  auto after = client_->GetRelationship(request);
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->state().event_count(), 3);
  EXPECT_EQ(after->head(), 4u);

  // A commit that leaves the dyad alone keeps its answer.
  v1::AppendRequest other;
  *other.add_events() = MakeMeeting("us-summit-2", "USA", "PRK");
  ASSERT_THAT(client_->Append(other), IsOk());
  auto unchanged = client_->GetRelationship(request);
  ASSERT_THAT(unchanged, IsOk());
  EXPECT_EQ(unchanged->state().SerializeAsString(),
            after->state().SerializeAsString());
  EXPECT_EQ(unchanged->head(), 5u);

  // A correction of one of its events changes it too.
  v1::AppendRequest retract;
  v1::Event* correction = retract.add_events();
  *correction = MakeMeeting("summit-3-retracted");
  v1::Correction* c = correction->mutable_correction();  // not a meeting
  c->set_corrects_event_id("summit-3");
  c->set_action(v1::Correction::ACTION_RETRACT);
  c->set_reason("reported in error");
  ASSERT_THAT(client_->Append(retract), IsOk());
  auto corrected = client_->GetRelationship(request);
  ASSERT_THAT(corrected, IsOk());
  EXPECT_EQ(corrected->state().event_count(), 2);
}

TEST_F(RelationshipServiceTest, ListAndTimeline) {
  v1::ListRelationshipsRequest list;
  auto listed = client_->ListRelationships(list);
  ASSERT_THAT(listed, IsOk());
  std::vector<std::string> dyads;
  for (const auto& r : listed->relationships()) dyads.push_back(r.dyad());
  EXPECT_THAT(dyads, ElementsAre("JPN-PRK", "PRK-USA"));  // 2004 first

  v1::QueryTimelineRequest timeline;
  timeline.set_actor("PRK");
  timeline.set_descending(true);
  auto entries = client_->QueryTimeline(timeline);
  ASSERT_THAT(entries, IsOk());
  std::vector<std::string> ids;
  for (const auto& e : entries->entries()) ids.push_back(e.event().id());
  EXPECT_THAT(ids, ElementsAre("summit-2", "us-summit", "summit-1"));
}

TEST_F(RelationshipServiceTest, BadQueriesAreInvalidArgumentNamingTheField) {
  v1::GetRelationshipRequest request;
  request.set_dyad("JPN-XYZ");
  auto response = client_->GetRelationship(request);
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<std::string> fields;
  for (const auto& v : rpc::FieldViolations(response.status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("dyad"));

  // GetRelationship is served raw: bytes that are no request are refused.
  const std::string garbage = "\x0a\xff\xff\xff";  // a length past the end
  std::string ignored;
  const grpc::Status status = RawGetRelationship(garbage, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();

  v1::QueryTimelineRequest timeline;
  timeline.set_page_token("%%%");
  EXPECT_THAT(client_->QueryTimeline(timeline),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RelationshipServiceTest, RebuildProjectionsReportsAMatch) {
  v1::RebuildProjectionsRequest request;
  auto report = client_->RebuildProjections(request, absl::Seconds(30));
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference();
  EXPECT_EQ(report->events(), 3u);
  EXPECT_FALSE(report->repaired());
}

}  // namespace
}  // namespace annals
