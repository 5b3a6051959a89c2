// The parts of `annals watch` and `annals watch-relationship` that need no
// server: the request from the flags, and the state line.
#include "clients/cli/watch_command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MakeSubscribeRequestTest, FromIsNowByDefaultStartOrAPosition) {
  WatchFlags flags;
  auto request = MakeSubscribeRequest(flags);
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->has_from_now());

  flags.from = "now";
  EXPECT_TRUE(MakeSubscribeRequest(flags)->has_from_now());
  flags.from = "start";
  EXPECT_TRUE(MakeSubscribeRequest(flags)->has_from_start());
  flags.from = "42";
  EXPECT_EQ(MakeSubscribeRequest(flags)->from_position(), 42u);

  for (const char* bad : {"0", "-1", "soon", "12x"}) {
    flags.from = bad;
    EXPECT_THAT(MakeSubscribeRequest(flags),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--from")))
        << bad;
  }
}

TEST(MakeSubscribeRequestTest, FiltersComeFromTheFlagsAndListsAreSplit) {
  WatchFlags flags;
  flags.stream = "JPN-PRK";
  flags.dyad = "PRK-JPN";
  flags.actor = "PRK";
  flags.kinds = {"meeting,statement", "sanction"};
  flags.tags = {"abductions"};
  auto request = MakeSubscribeRequest(flags);
  ASSERT_TRUE(request.ok());
  const v1::SubscriptionFilter& filter = request->filter();
  EXPECT_EQ(filter.stream(), "JPN-PRK");
  EXPECT_EQ(filter.dyad(), "PRK-JPN");  // the server sorts it
  EXPECT_EQ(filter.actor(), "PRK");
  EXPECT_THAT(filter.kinds(), ElementsAre("meeting", "statement", "sanction"));
  EXPECT_THAT(filter.tags(), ElementsAre("abductions"));
}

TEST(FormatWatchedStateTest, SaysCountsAndTheLastEvent) {
  v1::WatchRelationshipResponse response;
  response.set_position(12);
  response.mutable_state()->set_dyad("JPN-PRK");
  EXPECT_EQ(FormatWatchedState(response), "JPN-PRK at position 12: 0 events");

  v1::RelationshipState* state = response.mutable_state();
  state->set_event_count(3);
  v1::KindCount* meetings = state->add_counts();
  meetings->set_kind("meeting");
  meetings->set_count(2);
  v1::KindCount* statements = state->add_counts();
  statements->set_kind("statement");
  statements->set_count(1);
  v1::EventRef* last = state->mutable_last_event();
  last->set_event_id("koizumi-kim-2004");
  last->set_kind("meeting");
  last->mutable_occurred()->mutable_start()->set_year(2004);
  last->mutable_occurred()->mutable_start()->set_month(5);
  last->mutable_occurred()->mutable_start()->set_day(22);
  EXPECT_EQ(FormatWatchedState(response),
            "JPN-PRK at position 12: 3 events (meeting 2, statement 1), last "
            "2004-05-22 meeting koizumi-kim-2004");
}

}  // namespace
}  // namespace annals
