#include "services/http/route_table.h"

#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RouteTable AnnalsRoutes() {
  absl::StatusOr<RouteTable> table = RouteTable::Build(
      {v1::AppendRequest::descriptor()->file()->service(0),
       v1::GetRelationshipRequest::descriptor()->file()->FindServiceByName(
           "Relationships"),
       v1::SubscribeRequest::descriptor()->file()->service(0)});
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

TEST(RouteTableTest, PathsFindTheirMethodAndBindTheirFields) {
  const RouteTable table = AnnalsRoutes();
  RouteMatch get = table.Find("GET", "/v1/relationships/JPN-PRK");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->method->name(), "GetRelationship");
  ASSERT_EQ(get.bindings.size(), 1u);
  EXPECT_EQ(get.bindings[0].first->name(), "dyad");
  EXPECT_EQ(get.bindings[0].second, "JPN-PRK");

  // The verb decides before the plain template could take "JPN-PRK:watch".
  RouteMatch watch = table.Find("GET", "/v1/relationships/JPN-PRK:watch");
  ASSERT_NE(watch.route, nullptr);
  EXPECT_EQ(watch.route->method->name(), "WatchRelationship");
  EXPECT_TRUE(watch.route->streaming);
  EXPECT_EQ(watch.bindings[0].second, "JPN-PRK");

  RouteMatch append = table.Find("POST", "/v1/streams/jpn%2Dprk%20x:append");
  ASSERT_NE(append.route, nullptr);
  EXPECT_EQ(append.route->method->name(), "Append");
  EXPECT_EQ(append.route->body, "*");
  EXPECT_EQ(append.bindings[0].second, "jpn-prk x");

  EXPECT_EQ(table.Find("GET", "/v1/relationships").route->method->name(),
            "ListRelationships");
}

TEST(RouteTableTest, OtherMethodsOfAPathAreNamedAndUnknownPathsFindNothing) {
  const RouteTable table = AnnalsRoutes();
  RouteMatch wrong = table.Find("DELETE", "/v1/relationships/JPN-PRK");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_THAT(wrong.allowed, ElementsAre("GET"));
  RouteMatch none = table.Find("GET", "/v1/relationships/JPN-PRK/extra");
  EXPECT_EQ(none.route, nullptr);
  EXPECT_TRUE(none.allowed.empty());
  EXPECT_EQ(table.Find("GET", "/v1/events/").route, nullptr);  // empty id
  EXPECT_EQ(table.Find("GET", "/v1/events/a%zz").route, nullptr);
}

TEST(PercentDecodeTest, DecodesEscapesAndRefusesBrokenOnes) {
  EXPECT_EQ(*PercentDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(*PercentDecode("%e6%97%a5", false), "\xe6\x97\xa5");
  EXPECT_THAT(PercentDecode("100%", false),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("two hex digits")));
  EXPECT_FALSE(PercentDecode("%4", false).ok());
  EXPECT_FALSE(PercentDecode("%g1", false).ok());
}

}  // namespace
}  // namespace annals::http
