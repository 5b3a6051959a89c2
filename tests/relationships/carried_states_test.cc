// The states a projector's groups leave for the next
// (services/relationships/carried_states.h): handed out only for the
// record they stand for, once, and within their count.
#include "services/relationships/carried_states.h"

#include <string>

#include "gtest/gtest.h"

namespace annals::services {
namespace {

TEST(CarriedStatesTest, HandsAStateOutOnlyForTheRecordItStandsFor) {
  CarriedStates<std::string> left(8);
  left.Keep("JPN-PRK", "record@5", "state@5");
  std::string state = "untouched";
  EXPECT_FALSE(left.Take("JPN-PRK", "record@7", &state));
  EXPECT_EQ(state, "untouched");
  // A record that did not match drops the state: it never will again.
  left.Keep("JPN-PRK", "record@5", "state@5");
  EXPECT_FALSE(left.Take("JPN-PRK", "record@4", &state));
  EXPECT_FALSE(left.Take("JPN-PRK", "record@5", &state));
  EXPECT_EQ(left.size(), 0u);
}

TEST(CarriedStatesTest, HandsAStateOutOnce) {
  CarriedStates<std::string> left(8);
  left.Keep("JPN-PRK", "record@5", "state@5");
  left.Keep("PRK-USA", "record@5", "other@5");
  std::string state;
  EXPECT_TRUE(left.Take("JPN-PRK", "record@5", &state));
  EXPECT_EQ(state, "state@5");
  EXPECT_FALSE(left.Take("JPN-PRK", "record@5", &state));
  EXPECT_TRUE(left.Take("PRK-USA", "record@5", &state));
  EXPECT_EQ(state, "other@5");
}

TEST(CarriedStatesTest, TheLastKeepOfADyadStands) {
  CarriedStates<std::string> left(8);
  left.Keep("JPN-PRK", "record@5", "state@5");
  left.Keep("JPN-PRK", "record@7", "state@7");
  std::string state;
  EXPECT_FALSE(left.Take("JPN-PRK", "record@5", &state));
  left.Keep("JPN-PRK", "record@7", "state@7");
  EXPECT_TRUE(left.Take("JPN-PRK", "record@7", &state));
  EXPECT_EQ(state, "state@7");
}

TEST(CarriedStatesTest, DropsEveryStateBeforePassingItsCount) {
  CarriedStates<std::string> left(2);
  left.Keep("A-B", "a", "1");
  left.Keep("A-C", "a", "2");
  left.Keep("A-C", "b", "3");  // a dyad kept already: no drop
  EXPECT_EQ(left.size(), 2u);
  left.Keep("A-D", "a", "4");
  EXPECT_EQ(left.size(), 1u);
  std::string state;
  EXPECT_FALSE(left.Take("A-B", "a", &state));
  EXPECT_TRUE(left.Take("A-D", "a", &state));
  EXPECT_EQ(state, "4");
  CarriedStates<std::string> none(0);
  none.Keep("A-B", "a", "1");
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace annals::services
