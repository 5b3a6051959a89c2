// GetRelationship's kept answers (services/relationships/answers.h): what is
// kept is never older than a change the projector announced, nor from
// across a rebuild, and stays within its budget.
#include "services/relationships/answers.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace annals::services {
namespace {

// Reads the dyad as a reader would (Find, then Keep on a miss) with the
// head it read first; what Find returned, or "" on a miss.
std::string Ask(RelationshipAnswers& answers, const std::string& dyad,
                uint64_t head, const std::string& stored) {
  RelationshipAnswers::Miss miss;
  if (auto kept = answers.Find(dyad, &miss)) return *kept;
  EXPECT_EQ(*answers.Keep(dyad, miss, head, stored), stored);
  return "";
}

TEST(RelationshipAnswersTest, KeepsAnAnswerUntilItsDyadChanges) {
  RelationshipAnswers answers(1 << 20);
  EXPECT_EQ(Ask(answers, "JPN-PRK", 5, "state@5"), "");
  EXPECT_EQ(Ask(answers, "JPN-PRK", 5, "not read"), "state@5");
  EXPECT_EQ(Ask(answers, "PRK-USA", 5, "other@5"), "");
  answers.Changed("JPN-PRK", 7);
  EXPECT_EQ(Ask(answers, "JPN-PRK", 7, "state@7"), "");
  EXPECT_EQ(Ask(answers, "JPN-PRK", 8, "not read"), "state@7");
  EXPECT_EQ(Ask(answers, "PRK-USA", 8, "not read"), "other@5");  // untouched
}

TEST(RelationshipAnswersTest, AnAnswerReadBeforeAnAnnouncedChangeIsNotKept) {
  RelationshipAnswers answers(1 << 20);
  RelationshipAnswers::Miss miss;
  ASSERT_EQ(answers.Find("JPN-PRK", &miss), nullptr);
  // The writer announces a group ending at 9 while the reader, which read
  // head 6, is still reading: what it read may predate the group.
  answers.Changed("JPN-PRK", 9);
  EXPECT_EQ(*answers.Keep("JPN-PRK", miss, 6, "state@6"), "state@6");
  EXPECT_EQ(answers.kept(), 0u);
  // Read after the group was visible: kept.
  ASSERT_EQ(answers.Find("JPN-PRK", &miss), nullptr);
  answers.Keep("JPN-PRK", miss, 9, "state@9");
  EXPECT_EQ(Ask(answers, "JPN-PRK", 9, "not read"), "state@9");
  // A change after Keep drops it.
  answers.Changed("JPN-PRK", 12);
  EXPECT_EQ(answers.kept(), 0u);
}

TEST(RelationshipAnswersTest, NothingReadAcrossARebuildIsKept) {
  RelationshipAnswers answers(1 << 20);
  Ask(answers, "JPN-PRK", 5, "state@5");
  RelationshipAnswers::Miss before;
  ASSERT_EQ(answers.Find("PRK-USA", &before), nullptr);
  answers.RebuildStarting();
  EXPECT_EQ(answers.kept(), 0u);
  // Neither what was read before it started nor while it runs.
  answers.Keep("PRK-USA", before, 5, "old");
  RelationshipAnswers::Miss during;
  ASSERT_EQ(answers.Find("PRK-USA", &during), nullptr);
  answers.Keep("PRK-USA", during, 5, "half");
  EXPECT_EQ(answers.kept(), 0u);
  answers.RebuildEnded();
  answers.Keep("PRK-USA", during, 5, "half");  // began before it ended
  EXPECT_EQ(answers.kept(), 0u);
  // Read after it ended (the head has not moved: a repair adds no events).
  EXPECT_EQ(Ask(answers, "PRK-USA", 5, "repaired"), "");
  EXPECT_EQ(Ask(answers, "PRK-USA", 5, "not read"), "repaired");
}

TEST(RelationshipAnswersTest, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const std::string state(1000, 's');
  RelationshipAnswers answers(3 * (state.size() + 7));  // three of them
  Ask(answers, "JPN-PRK", 1, state);
  Ask(answers, "PRK-USA", 1, state);
  Ask(answers, "CHN-PRK", 1, state);
  EXPECT_EQ(answers.kept(), 3u);
  EXPECT_EQ(Ask(answers, "JPN-PRK", 1, state), state);  // used again
  Ask(answers, "KOR-PRK", 1, state);  // drops PRK-USA, the least recent
  EXPECT_EQ(answers.kept(), 3u);
  EXPECT_LE(answers.kept_bytes(), 3 * (state.size() + 7));
  EXPECT_EQ(Ask(answers, "JPN-PRK", 1, state), state);
  EXPECT_EQ(Ask(answers, "CHN-PRK", 1, state), state);
  EXPECT_EQ(Ask(answers, "KOR-PRK", 1, state), state);
  EXPECT_EQ(Ask(answers, "PRK-USA", 1, state), "");  // it was dropped
  // An answer larger than the whole budget is not kept.
  RelationshipAnswers small(100);
  EXPECT_EQ(Ask(small, "JPN-PRK", 1, state), "");
  EXPECT_EQ(small.kept(), 0u);
}

TEST(RelationshipAnswersTest, ABudgetOfZeroKeepsNothing) {
  RelationshipAnswers answers(0);
  EXPECT_EQ(Ask(answers, "JPN-PRK", 1, "state"), "");
  EXPECT_EQ(Ask(answers, "JPN-PRK", 1, "state"), "");
  EXPECT_EQ(answers.kept(), 0u);
}

}  // namespace
}  // namespace annals::services
