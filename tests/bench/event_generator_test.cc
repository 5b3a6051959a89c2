#include "clients/bench/event_generator.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/model/validation.h"

namespace annals::bench {
namespace {

using ::testing::IsEmpty;

constexpr uint64_t kEvents = 5000;

GeneratorOptions Options(uint64_t seed, int block_size = 500) {
  GeneratorOptions options;
  options.seed = seed;
  options.block_size = block_size;
  return options;
}

std::string Describe(const std::vector<rpc::FieldViolation>& violations) {
  std::string out;
  for (const rpc::FieldViolation& v : violations) {
    absl::StrAppend(&out, v.field, ": ", v.description, "\n");
  }
  return out;
}

TEST(EventGeneratorTest, EveryEventIsValid) {
  const EventGenerator generator(Options(3));
  for (uint64_t n = 0; n < kEvents; ++n) {
    const v1::Event event = generator.Make(n);
    std::vector<rpc::FieldViolation> violations;
    services::ValidateEvent(event, "event", &violations);
    ASSERT_THAT(violations, IsEmpty())
        << "event " << n << ":\n" << Describe(violations)
        << event.DebugString();
    for (const std::string& actor : event.source()) {
      EXPECT_TRUE(services::IsKnownActor(actor)) << actor;
    }
  }
}

TEST(EventGeneratorTest, ActorsAreKnown) {
  for (const std::string& actor : GeneratorActors()) {
    EXPECT_TRUE(services::IsKnownActor(actor)) << actor;
  }
  EXPECT_GE(GeneratorActors().size(), 40u);
}

TEST(EventGeneratorTest, DeterministicGivenTheSeed) {
  const EventGenerator a(Options(7));
  const EventGenerator b(Options(7));
  const EventGenerator c(Options(8));
  int differ = 0;
  for (uint64_t n : {0u, 1u, 17u, 499u, 4321u}) {
    EXPECT_EQ(a.Make(n).SerializeAsString(), b.Make(n).SerializeAsString());
    // Same ids across seeds would collide in one log: the prefix differs.
    EXPECT_NE(a.Make(n).id(), c.Make(n).id());
    v1::Event other = c.Make(n);
    other.set_id(a.Id(n));
    if (other.SerializeAsString() != a.Make(n).SerializeAsString()) ++differ;
  }
  EXPECT_GE(differ, 4);
  EXPECT_EQ(a.dyads(), b.dyads());
}

TEST(EventGeneratorTest, RealisticMix) {
  const EventGenerator generator(Options(1));
  EXPECT_EQ(generator.dyads().size(), 200u);
  absl::flat_hash_set<std::string> kinds;
  absl::flat_hash_set<std::string> dyads;
  absl::flat_hash_set<int> precisions;
  int corrections = 0;
  int ranges = 0;
  size_t bytes = 0;
  for (uint64_t n = 0; n < kEvents; ++n) {
    const v1::Event event = generator.Make(n);
    bytes += event.ByteSizeLong();
    const auto* what = event.GetDescriptor()->FindOneofByName("what");
    kinds.insert(std::string(
        event.GetReflection()->GetOneofFieldDescriptor(event, what)->name()));
    std::string x = event.source(0), y = event.target(0);
    if (y < x) std::swap(x, y);
    dyads.insert(absl::StrCat(x, "-", y));
    const v1::Date& start = event.occurred().start();
    EXPECT_GE(start.year(), 1990);
    EXPECT_LE(start.year(), 2025);
    precisions.insert(start.month() == 0 ? 0 : start.day() == 0 ? 1 : 2);
    if (event.occurred().has_end()) ++ranges;
    if (event.has_correction()) {
      ++corrections;
      EXPECT_TRUE(generator.IsCorrection(n));
      EXPECT_EQ(event.correction().corrects_event_id(), generator.Id(n - 1));
      EXPECT_FALSE(generator.IsCorrection(n - 1));
      EXPECT_NE(n % 500, 0u) << "first of a block";
    }
  }
  EXPECT_EQ(kinds.size(), 9u);  // the eight kinds and corrections
  EXPECT_GE(dyads.size(), 150u);
  for (const std::string& dyad : dyads) {
    EXPECT_NE(std::find(generator.dyads().begin(), generator.dyads().end(),
                        dyad),
              generator.dyads().end())
        << dyad;
  }
  EXPECT_EQ(precisions.size(), 3u);
  EXPECT_GT(ranges, 0);
  EXPECT_GT(corrections, static_cast<int>(kEvents) / 400);
  EXPECT_LT(corrections, static_cast<int>(kEvents) / 30);
  const double average = static_cast<double>(bytes) / kEvents;
  EXPECT_GE(average, 400) << "average serialized size";
  EXPECT_LE(average, 800) << "average serialized size";
}

TEST(EventGeneratorTest, NoCorrectionsWithBlocksOfOne) {
  const EventGenerator generator(Options(1, 1));
  for (uint64_t n = 0; n < kEvents; ++n) {
    ASSERT_FALSE(generator.Make(n).has_correction()) << n;
  }
}

}  // namespace
}  // namespace annals::bench
