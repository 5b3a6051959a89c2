// The relationship commands of the CLI without a real server: how the
// command line becomes requests, and how the commands page through answers
// of a fake Relationships/Admin service over an in-process channel.
#include "clients/cli/relationship_commands.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "annals/v1/query.grpc.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/date_text.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// --- Dates ---

TEST(ParseDateTextTest, YearMonthOrDay) {
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::Date year, ParseDateText("--from", "2018"));
  EXPECT_EQ(year.year(), 2018);
  EXPECT_EQ(year.month(), 0);
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::Date month, ParseDateText("--to", "2019-06"));
  EXPECT_EQ(month.month(), 6);
  EXPECT_EQ(month.day(), 0);
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::Date day,
                              ParseDateText("--as-of", "2020-02-29"));
  EXPECT_EQ(day.day(), 29);
}

TEST(ParseDateTextTest, MalformedDatesNameTheFlag) {
  for (const char* bad :
       {"", "19", "2019-6", "2019-13", "2019-00", "2019-02-29", "2019-04-31",
        "0000", "2019-03-01-02", "2019/03", "march", "2019-03-"}) {
    EXPECT_THAT(ParseDateText("--as-of", bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("--as-of must be a date")))
        << bad;
  }
}

// --- Requests ---

TEST(MakeGetRelationshipRequestTest, TwoCodesOrOneDyad) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto two, MakeGetRelationshipRequest({"JPN", "PRK"}, "", ""));
  EXPECT_EQ(two.dyad(), "JPN-PRK");
  EXPECT_EQ(two.as_of_case(), v1::GetRelationshipRequest::AS_OF_NOT_SET);
  ANNALS_ASSERT_OK_AND_ASSIGN(auto one,
                              MakeGetRelationshipRequest({"PRK-USA"}, "", ""));
  EXPECT_EQ(one.dyad(), "PRK-USA");
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{
           {}, {"JPN"}, {"JPN-PRK-USA"}, {"-JPN"}, {"JPN", "PRK", "USA"}}) {
    EXPECT_THAT(MakeGetRelationshipRequest(bad, "", ""),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(MakeRequestsTest, LowerCaseActorCodesAreTheirUpperCaseForm) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto two, MakeGetRelationshipRequest({"jpn", "prk"}, "", ""));
  EXPECT_EQ(two.dyad(), "JPN-PRK");
  ANNALS_ASSERT_OK_AND_ASSIGN(auto one,
                              MakeGetRelationshipRequest({"prk-Usa"}, "", ""));
  EXPECT_EQ(one.dyad(), "PRK-USA");
  ANNALS_ASSERT_OK_AND_ASSIGN(auto actor, MakeQueryTimelineRequest({"fra"}, {}));
  EXPECT_EQ(actor.actor(), "FRA");
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto list, MakeListRelationshipsRequest({}, "", false, "unhrc"));
  EXPECT_EQ(list.actor(), "UNHRC");
}

TEST(MakeGetRelationshipRequestTest, AsOfDateOrPositionNotBoth) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto date, MakeGetRelationshipRequest({"JPN", "PRK"}, "2019-03-01", ""));
  EXPECT_EQ(date.as_of_date().year(), 2019);
  EXPECT_EQ(date.as_of_date().day(), 1);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto zero, MakeGetRelationshipRequest({"JPN", "PRK"}, "", "0"));
  EXPECT_EQ(zero.as_of_case(), v1::GetRelationshipRequest::kAsOfPosition);
  EXPECT_EQ(zero.as_of_position(), 0u);
  EXPECT_THAT(MakeGetRelationshipRequest({"JPN", "PRK"}, "2019", "5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--as-of-position")));
  EXPECT_THAT(MakeGetRelationshipRequest({"JPN", "PRK"}, "", "-3"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--as-of-position")));
  EXPECT_THAT(
      MakeGetRelationshipRequest({"JPN", "PRK"}, "2019-3", ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--as-of")));
}

TEST(MakeListRelationshipsRequestTest, OrderAndActor) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto activity, MakeListRelationshipsRequest({}, "activity", false, ""));
  EXPECT_EQ(activity.order_by(),
            v1::ListRelationshipsRequest::ORDER_BY_RECENT_ACTIVITY);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto index, MakeListRelationshipsRequest({}, "index", true, "PRK"));
  EXPECT_EQ(index.order_by(), v1::ListRelationshipsRequest::ORDER_BY_INDEX);
  EXPECT_TRUE(index.ascending());
  EXPECT_EQ(index.actor(), "PRK");
  EXPECT_THAT(
      MakeListRelationshipsRequest({}, "alphabet", false, ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--order")));
  EXPECT_THAT(MakeListRelationshipsRequest({"PRK"}, "", false, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MakeQueryTimelineRequestTest, ActorDyadOrWholeLog) {
  ANNALS_ASSERT_OK_AND_ASSIGN(auto all, MakeQueryTimelineRequest({}, {}));
  EXPECT_EQ(all.dyad(), "");
  EXPECT_EQ(all.actor(), "");
  ANNALS_ASSERT_OK_AND_ASSIGN(auto actor,
                              MakeQueryTimelineRequest({"PRK"}, {}));
  EXPECT_EQ(actor.actor(), "PRK");
  EXPECT_EQ(actor.dyad(), "");
  ANNALS_ASSERT_OK_AND_ASSIGN(auto dyad,
                              MakeQueryTimelineRequest({"JPN-PRK"}, {}));
  EXPECT_EQ(dyad.dyad(), "JPN-PRK");
  EXPECT_EQ(dyad.actor(), "");
  ANNALS_ASSERT_OK_AND_ASSIGN(auto two,
                              MakeQueryTimelineRequest({"JPN", "PRK"}, {}));
  EXPECT_EQ(two.dyad(), "JPN-PRK");
  EXPECT_THAT(MakeQueryTimelineRequest({"A", "B", "C"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MakeQueryTimelineRequestTest, FiltersWithListsSplitAtCommas) {
  TimelineFilters filters;
  filters.from = "2018";
  filters.to = "2019-06";
  filters.kinds = {"meeting,resolution", "statement"};
  filters.tags = {"abductions", ",human-rights,"};
  filters.text = "summit";
  filters.descending = true;
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto request, MakeQueryTimelineRequest({"JPN", "PRK"}, filters));
  EXPECT_EQ(request.from().year(), 2018);
  EXPECT_EQ(request.from().month(), 0);
  EXPECT_EQ(request.to().month(), 6);
  EXPECT_THAT(request.kinds(),
              ElementsAre("meeting", "resolution", "statement"));
  EXPECT_THAT(request.tags(), ElementsAre("abductions", "human-rights"));
  EXPECT_EQ(request.text(), "summit");
  EXPECT_TRUE(request.descending());

  filters.to = "2019-6";
  EXPECT_THAT(MakeQueryTimelineRequest({}, filters),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--to")));
  // A reversed range is the server's to judge (it names the field).
  filters.from = "2019";
  filters.to = "2018";
  EXPECT_TRUE(MakeQueryTimelineRequest({}, filters).ok());
}

// --- Repeated list flags ---

std::vector<std::string> Join(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  int argc = static_cast<int>(argv.size());
  std::vector<std::string> storage;
  JoinRepeatedListFlags({"kind", "tag"}, &argc, argv.data(), &storage);
  return std::vector<std::string>(argv.begin(), argv.begin() + argc);
}

TEST(JoinRepeatedListFlagsTest, RepeatedFlagsBecomeOneList) {
  EXPECT_THAT(Join({"annals", "timeline", "--kind", "meeting", "JPN",
                    "--tag=abductions", "-kind=resolution", "--limit", "3",
                    "--tag", "un", "PRK"}),
              ElementsAre("annals", "timeline", "--kind=meeting,resolution",
                          "JPN", "--tag=abductions,un", "--limit", "3", "PRK"));
}

TEST(JoinRepeatedListFlagsTest, LeavesOtherArgumentsAlone) {
  EXPECT_THAT(Join({"annals", "read", "--all", "--from", "3"}),
              ElementsAre("annals", "read", "--all", "--from", "3"));
  // After "--" everything is positional; a trailing "--kind" has no value.
  EXPECT_THAT(Join({"annals", "x", "--", "--kind", "a"}),
              ElementsAre("annals", "x", "--", "--kind", "a"));
  EXPECT_THAT(Join({"annals", "x", "--kind"}),
              ElementsAre("annals", "x", "--kind"));
  // --kinds is another flag.
  EXPECT_THAT(Join({"annals", "--kinds", "a"}),
              ElementsAre("annals", "--kinds", "a"));
}

// --- Paging against a fake service ---

// Serves the pages it is given, one per call, and records the requests.
class FakeRelationships final : public v1::Relationships::Service,
                                public v1::Admin::Service {
 public:
  std::vector<v1::QueryTimelineResponse> timeline_pages;
  std::vector<v1::ListRelationshipsResponse> list_pages;
  v1::RebuildProjectionsResponse rebuild;
  grpc::Status error = grpc::Status::OK;

  std::vector<v1::QueryTimelineRequest> timeline_requests() {
    absl::MutexLock lock(&mu_);
    return timeline_requests_;
  }
  std::vector<v1::RebuildProjectionsRequest> rebuild_requests() {
    absl::MutexLock lock(&mu_);
    return rebuild_requests_;
  }

  grpc::Status QueryTimeline(grpc::ServerContext*,
                             const v1::QueryTimelineRequest* request,
                             v1::QueryTimelineResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!error.ok()) return error;
    *response = timeline_pages.at(timeline_requests_.size());
    timeline_requests_.push_back(*request);
    return grpc::Status::OK;
  }
  grpc::Status ListRelationships(
      grpc::ServerContext*, const v1::ListRelationshipsRequest* request,
      v1::ListRelationshipsResponse* response) override {
    absl::MutexLock lock(&mu_);
    *response = list_pages.at(list_calls_++);
    (void)request;
    return grpc::Status::OK;
  }
  grpc::Status RebuildProjections(
      grpc::ServerContext*, const v1::RebuildProjectionsRequest* request,
      v1::RebuildProjectionsResponse* response) override {
    absl::MutexLock lock(&mu_);
    rebuild_requests_.push_back(*request);
    *response = rebuild;
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::QueryTimelineRequest> timeline_requests_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::RebuildProjectionsRequest> rebuild_requests_
      ABSL_GUARDED_BY(mu_);
  size_t list_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

v1::TimelineEntry Entry(uint64_t position) {
  v1::TimelineEntry entry;
  entry.set_position(position);
  entry.set_stream("JPN-PRK");
  entry.mutable_event()->set_id(absl::StrCat("event-", position));
  entry.mutable_event()->mutable_occurred()->mutable_start()->set_year(2000);
  entry.mutable_event()->add_source("JPN");
  return entry;
}

v1::QueryTimelineResponse TimelinePage(std::vector<uint64_t> positions,
                                       const std::string& token) {
  v1::QueryTimelineResponse page;
  for (uint64_t position : positions) *page.add_entries() = Entry(position);
  page.set_next_page_token(token);
  return page;
}

class PagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(static_cast<v1::Relationships::Service*>(&fake_));
    builder.RegisterService(static_cast<v1::Admin::Service*>(&fake_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<Client>(
        server_->InProcessChannel(grpc::ChannelArguments()), absl::Seconds(10));
  }
  void TearDown() override { server_->Shutdown(); }

  std::vector<std::string> OutLines() const {
    return absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  }

  FakeRelationships fake_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Client> client_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PagingTest, TimelineFollowsTokensPastEmptyPages) {
  fake_.timeline_pages = {TimelinePage({1, 2}, "t1"), TimelinePage({}, "t2"),
                          TimelinePage({}, "t3"), TimelinePage({7}, "")};
  EXPECT_EQ(
      PrintTimeline(*client_, {}, /*limit=*/0, /*json=*/false, out_, err_), 0)
      << err_.str();
  const std::vector<std::string> lines = OutLines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  EXPECT_THAT(lines[0], StartsWith("#1 JPN-PRK 2000 "));
  EXPECT_THAT(lines[2], StartsWith("#7 "));
  const std::vector<v1::QueryTimelineRequest> requests =
      fake_.timeline_requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].page_token(), "");
  EXPECT_EQ(requests[1].page_token(), "t1");
  EXPECT_EQ(requests[3].page_token(), "t3");
}

TEST_F(PagingTest, EmptyAnswersSaySoInTextAndNothingInJson) {
  fake_.timeline_pages = {TimelinePage({}, ""), TimelinePage({}, "")};
  EXPECT_EQ(PrintTimeline(*client_, {}, 0, /*json=*/false, out_, err_), 0);
  EXPECT_EQ(out_.str(), "no events\n");
  out_.str("");
  EXPECT_EQ(PrintTimeline(*client_, {}, 0, /*json=*/true, out_, err_), 0);
  EXPECT_EQ(out_.str(), "");
  fake_.list_pages = {v1::ListRelationshipsResponse()};
  EXPECT_EQ(PrintRelationships(*client_, {}, 0, /*json=*/false, out_, err_), 0);
  EXPECT_EQ(out_.str(), "no relationships\n");
}

TEST_F(PagingTest, TimelineStopsAtTheLimitAndAsksForNoMore) {
  fake_.timeline_pages = {TimelinePage({}, "t1"), TimelinePage({3, 4}, "t2"),
                          TimelinePage({5, 6}, "t3")};
  EXPECT_EQ(PrintTimeline(*client_, {}, /*limit=*/3, /*json=*/true, out_, err_),
            0);
  const std::vector<std::string> lines = OutLines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  EXPECT_THAT(lines[0], HasSubstr("\"position\":\"3\""));
  EXPECT_THAT(lines[2], HasSubstr("\"position\":\"5\""));
  const std::vector<v1::QueryTimelineRequest> requests =
      fake_.timeline_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].page_size(), 3);
  EXPECT_EQ(requests[1].page_size(), 3);
  EXPECT_EQ(requests[2].page_size(), 1);
}

TEST_F(PagingTest, ServerErrorIsOneLineAndExitOne) {
  fake_.error = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "invalid fields to: is before from");
  EXPECT_EQ(PrintTimeline(*client_, {}, 0, false, out_, err_), 1);
  EXPECT_EQ(err_.str(),
            "INVALID_ARGUMENT: invalid fields to: is before from\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(PagingTest, RelationshipsFollowTokensUntilTheLimit) {
  v1::ListRelationshipsResponse first;
  first.add_relationships()->set_dyad("JPN-PRK");
  first.add_relationships()->set_dyad("PRK-USA");
  first.set_next_page_token("p1");
  v1::ListRelationshipsResponse second;
  second.add_relationships()->set_dyad("PRK-RUS");
  second.add_relationships()->set_dyad("JPN-USA");
  second.set_next_page_token("p2");
  fake_.list_pages = {first, second};
  EXPECT_EQ(PrintRelationships(*client_, {}, /*limit=*/3, false, out_, err_),
            0);
  const std::vector<std::string> lines = OutLines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  EXPECT_THAT(lines[0], StartsWith("JPN-PRK: "));
  EXPECT_THAT(lines[2], StartsWith("PRK-RUS: "));
}

TEST_F(PagingTest, RebuildCheckThatDiffersExitsOne) {
  fake_.rebuild.set_events(87);
  fake_.rebuild.set_different(1);
  fake_.rebuild.set_first_difference("relationships \"JPN-PRK\"");
  EXPECT_EQ(RunRebuild(*client_, /*check=*/true, false, out_, err_), 1);
  EXPECT_THAT(out_.str(), HasSubstr("differed"));
  EXPECT_THAT(err_.str(), HasSubstr("differ"));
  ASSERT_EQ(fake_.rebuild_requests().size(), 1u);
  EXPECT_FALSE(fake_.rebuild_requests()[0].repair());
}

TEST_F(PagingTest, RebuildRepairsByDefault) {
  fake_.rebuild.set_events(87);
  fake_.rebuild.set_matched(true);
  EXPECT_EQ(RunRebuild(*client_, /*check=*/false, true, out_, err_), 0);
  EXPECT_THAT(out_.str(), HasSubstr("\"matched\":true"));
  EXPECT_THAT(err_.str(), IsEmpty());
  ASSERT_EQ(fake_.rebuild_requests().size(), 1u);
  EXPECT_TRUE(fake_.rebuild_requests()[0].repair());
}

}  // namespace
}  // namespace annals
