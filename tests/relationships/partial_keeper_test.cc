// The keeper of year partials: once the log is idle, every dyad's
// partials are current (nothing left to fold) and its answer kept (up to
// half the answers' budget), again after more appends, and it stops
// promptly.
#include "services/relationships/partial_keeper.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/model/projection.h"
#include "services/relationships/answers.h"
#include "services/relationships/as_of.h"
#include "services/relationships/projector.h"
#include "services/relationships/stored_state.h"
#include "tests/relationships/seeded_log.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::GeneratedEvents;
using ::annals::testing::IsOk;
using ::annals::testing::ProjectedLog;

// Waits until `keeper` has completed a pass at `head`.
bool CurrentAt(const PartialKeeper& keeper, uint64_t head) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (keeper.CurrentAt() != head) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void ExpectNothingToFold(storage::EventLog& log, const std::string& dyad) {
  absl::StatusOr<int> folded = KeepPartials(log, dyad);
  ASSERT_THAT(folded.status(), IsOk());
  EXPECT_EQ(*folded, 0) << dyad;
}

TEST(PartialKeeperTest, KeepsEveryDyadsPartialsOnceTheLogIsIdle) {
  const std::vector<v1::Event> events = GeneratedEvents(53, 4, 40, 0.1, 1200);
  std::set<std::string> dyads;
  for (const v1::Event& e : events) {
    for (std::string& d : DyadsOf(e)) dyads.insert(std::move(d));
  }
  ProjectedLog log;
  log.Append(std::vector<v1::Event>(events.begin(), events.begin() + 600), 50);
  PartialKeeper keeper(&log.log(), absl::Milliseconds(20));
  ASSERT_TRUE(CurrentAt(keeper, log.log().GetHead().position));
  for (const std::string& dyad : dyads) {
    ExpectNothingToFold(log.log(), dyad);
  }
  log.Append(std::vector<v1::Event>(events.begin() + 600, events.end()), 50);
  ASSERT_TRUE(CurrentAt(keeper, log.log().GetHead().position));
  for (const std::string& dyad : dyads) {
    ExpectNothingToFold(log.log(), dyad);
  }
}

// The answer kept for `dyad`, or "" when none is.
std::string KeptAnswer(const RelationshipAnswers& answers,
                       const std::string& dyad) {
  RelationshipAnswers::Miss miss;
  std::shared_ptr<const std::string> answer = answers.Find(dyad, &miss);
  return answer == nullptr ? "" : *answer;
}

TEST(PartialKeeperTest, KeepsEveryDyadsAnswerOnceTheLogIsIdle) {
  const std::vector<v1::Event> events = GeneratedEvents(61, 4, 40, 0.1, 600);
  std::set<std::string> dyads;
  for (const v1::Event& e : events) {
    for (std::string& d : DyadsOf(e)) dyads.insert(std::move(d));
  }
  ProjectedLog log(kCheckpointEvents, 16 << 20);
  log.Append(std::vector<v1::Event>(events.begin(), events.begin() + 300), 50);
  PartialKeeper keeper(&log.log(), absl::Milliseconds(20), log.answers());
  ASSERT_TRUE(CurrentAt(keeper, log.log().GetHead().position));
  EXPECT_EQ(log.answers()->kept(), dyads.size());
  // After more appends (which drop the answers of the dyads they change),
  // each kept answer is the dyad's current one.
  log.Append(std::vector<v1::Event>(events.begin() + 300, events.end()), 50);
  ASSERT_TRUE(CurrentAt(keeper, log.log().GetHead().position));
  EXPECT_EQ(log.answers()->kept(), dyads.size());
  for (const std::string& dyad : dyads) {
    absl::StatusOr<std::string> stored = ReadStoredRelationship(log.log(), dyad);
    ASSERT_THAT(stored.status(), IsOk());
    EXPECT_EQ(KeptAnswer(*log.answers(), dyad), *stored) << dyad;
  }
}

TEST(PartialKeeperTest, KeepsAnswersOnlyUpToHalfTheirBudget) {
  const std::vector<v1::Event> events = GeneratedEvents(67, 4, 40, 0.1, 600);
  ProjectedLog log(kCheckpointEvents, 16 << 20);
  log.Append(events, 50);
  size_t all_bytes = 0;
  {
    PartialKeeper keeper(&log.log(), absl::Milliseconds(20), log.answers());
    ASSERT_TRUE(CurrentAt(keeper, log.log().GetHead().position));
    all_bytes = log.answers()->kept_bytes();
  }
  ProjectedLog small(kCheckpointEvents, all_bytes);
  small.Append(events, 50);
  PartialKeeper keeper(&small.log(), absl::Milliseconds(20), small.answers());
  ASSERT_TRUE(CurrentAt(keeper, small.log().GetHead().position));
  EXPECT_GT(small.answers()->kept(), 0u);
  EXPECT_LE(small.answers()->kept_bytes(), all_bytes / 2);
}

TEST(PartialKeeperTest, StopsWithinAnIdlePeriod) {
  ProjectedLog log;
  log.Append(GeneratedEvents(59, 2, 40, 0.0, 100), 50);
  const absl::Time start = absl::Now();
  { PartialKeeper keeper(&log.log(), absl::Hours(1)); }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace annals::services
