#include "services/http/transcoder.h"

#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "tests/testing/status_matchers.h"

namespace annals::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The request `path?query` of `method` builds, or its error.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Build(
    const std::string& http_method, const std::string& target,
    const std::string& body = "") {
  static const RouteTable* table = [] {
    auto built = RouteTable::Build(
        {v1::AppendRequest::descriptor()->file()->service(0),
         v1::GetRelationshipRequest::descriptor()->file()->FindServiceByName(
             "Relationships"),
         v1::SubscribeRequest::descriptor()->file()->service(0)});
    return new RouteTable(*std::move(built));
  }();
  const size_t mark = target.find('?');
  RouteMatch match = table->Find(http_method, target.substr(0, mark));
  EXPECT_NE(match.route, nullptr) << target;
  absl::StatusOr<QueryParams> query =
      ParseQuery(mark == std::string::npos ? "" : target.substr(mark + 1));
  if (!query.ok()) return query.status();
  return BuildRequest(match, *query, body);
}

std::vector<std::string> Violated(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const rpc::FieldViolation& violation : rpc::FieldViolations(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

TEST(TranscoderTest, QueryParametersByJsonOrProtoNameDottedAndRepeated) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto message,
      Build("GET",
            "/v1/timeline?dyad=JPN-PRK&from=2018&to=2019-06-30&kinds=meeting"
            "&kinds=resolution&text=human+rights&page_size=20&descending=true"
            "&includeOverlapping"));
  const auto& request = dynamic_cast<const v1::QueryTimelineRequest&>(*message);
  EXPECT_EQ(request.dyad(), "JPN-PRK");
  EXPECT_EQ(request.from().year(), 2018);
  EXPECT_EQ(request.from().month(), 0);
  EXPECT_EQ(request.to().day(), 30);
  EXPECT_THAT(request.kinds(), ElementsAre("meeting", "resolution"));
  EXPECT_EQ(request.text(), "human rights");
  EXPECT_EQ(request.page_size(), 20);
  EXPECT_TRUE(request.descending());
  EXPECT_TRUE(request.include_overlapping());

  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto subscribe,
      Build("GET", "/v1/subscribe?fromStart&filter.dyad=JPN-PRK&filter.kinds=meeting"));
  const auto& s = dynamic_cast<const v1::SubscribeRequest&>(*subscribe);
  EXPECT_TRUE(s.has_from_start());
  EXPECT_EQ(s.filter().dyad(), "JPN-PRK");

  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto list, Build("GET", "/v1/relationships?orderBy=ORDER_BY_INDEX"));
  EXPECT_EQ(dynamic_cast<const v1::ListRelationshipsRequest&>(*list).order_by(),
            v1::ListRelationshipsRequest::ORDER_BY_INDEX);
}

TEST(TranscoderTest, MistakesNameTheParameter) {
  const auto violated = [](const std::string& target) {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> built =
        Build("GET", target);
    EXPECT_FALSE(built.ok()) << target;
    return built.ok() ? std::vector<std::string>{} : Violated(built.status());
  };
  EXPECT_THAT(violated("/v1/timeline?pageSize=many"), ElementsAre("pageSize"));
  EXPECT_THAT(violated("/v1/timeline?from=2019-02-30"), ElementsAre("from"));
  EXPECT_THAT(violated("/v1/timeline?dyad=A-B&dyad=C-D"), ElementsAre("dyad"));
  EXPECT_THAT(violated("/v1/timeline?colour=red"), ElementsAre("colour"));
  EXPECT_THAT(violated("/v1/timeline?dyad.x=1"), ElementsAre("dyad.x"));
  EXPECT_THAT(violated("/v1/relationships?orderBy=SIDEWAYS"),
              ElementsAre("orderBy"));
  EXPECT_THAT(violated("/v1/relationships/JPN-PRK?asOfDate=2019&asOfPosition=4"),
              ElementsAre("asOfPosition"));
  EXPECT_THAT(violated("/v1/subscribe?filter=x"), ElementsAre("filter"));
  EXPECT_THAT(violated("/v1/subscribe?fromNow=yes"), ElementsAre("fromNow"));
}

TEST(TranscoderTest, BodiesAreCanonicalJsonAndPathFieldsWin) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      auto message,
      Build("POST", "/v1/streams/JPN-PRK:append",
            R"({"stream":"other","events":[{"id":"a","summary":"s"}]})"));
  const auto& request = dynamic_cast<const v1::AppendRequest&>(*message);
  EXPECT_EQ(request.stream(), "JPN-PRK");
  EXPECT_EQ(request.events(0).id(), "a");

  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> unknown =
      Build("POST", "/v1/streams/x:append", R"({"evnts":[]})");
  EXPECT_THAT(Violated(unknown.status()), ElementsAre("body"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("evnts"));
  EXPECT_THAT(Violated(Build("POST", "/v1/streams/x:append?x=1", "{}").status()),
              ElementsAre("x"));
}

TEST(TranscoderTest, ViolationsNameFieldsAsTheJsonDoes) {
  const auto& append = *v1::AppendRequest::descriptor();
  EXPECT_EQ(JsonFieldPath(append, "events[0].cameo_code"), "events[0].cameoCode");
  EXPECT_EQ(JsonFieldPath(append, "events[2].statement.speaker"),
            "events[2].statement.speaker");
  // A oneof's name is not a field: JSON has no name for it either.
  EXPECT_EQ(JsonFieldPath(append, "expected_version"), "expected_version");
  EXPECT_EQ(JsonFieldPath(append, "body"), "body");
  EXPECT_EQ(JsonFieldPath(*v1::GetRelationshipRequest::descriptor(),
                          "as_of_date.month"),
            "asOfDate.month");
  const grpc::Status status = WithJsonFieldNames(
      rpc::ToGrpcStatus(rpc::InvalidArgument({{"as_of_position", "too far"}})),
      *v1::GetRelationshipRequest::descriptor());
  EXPECT_THAT(StatusJson(status), HasSubstr(R"("field":"asOfPosition")"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(TranscoderTest, StatusesMapAsGrpcGatewayMapsThem) {
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::OK), 200);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::CANCELLED), 499);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNIMPLEMENTED), 501);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DATA_LOSS), 500);

  const std::string json = StatusJson(rpc::ToGrpcStatus(
      rpc::InvalidArgument({{"events[0].summary", "required"}})));
  EXPECT_THAT(json, HasSubstr(R"("code":3)"));
  EXPECT_THAT(json, HasSubstr(R"("@type":"type.googleapis.com/google.rpc.BadRequest")"));
  EXPECT_THAT(json, HasSubstr(R"("field":"events[0].summary")"));
  EXPECT_EQ(StatusJson(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone")),
            R"({"code":5,"message":"gone"})");
}

}  // namespace
}  // namespace annals::http
