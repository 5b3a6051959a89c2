// MergeState against the fold: states of disjoint parts of a dyad's
// events, merged in any order, are byte-identical to BuildState over all
// of them. The benchmark's generator gives every kind, imprecise dates,
// agreements under hardening policies and resolutions of many bodies.
#include "services/model/state_merge.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "tests/relationships/seeded_log.h"

namespace annals::services {
namespace {

using ::annals::testing::AllDyads;
using ::annals::testing::GeneratedEvents;
using ::annals::testing::SeedEvents;

// The effective events of `events` appended in order.
std::vector<v1::Event> Effective(const std::vector<v1::Event>& events) {
  std::vector<v1::RecordedEvent> recorded;
  for (const v1::Event& event : events) {
    v1::RecordedEvent& r = recorded.emplace_back();
    *r.mutable_event() = event;
    r.set_position(recorded.size());
  }
  return EffectiveEvents(recorded);
}

// For each dyad of `effective`: its events split into parts by `part_of`,
// each part folded, the folds merged in a shuffled order.
template <typename PartOf>
void ExpectMergesAreTheFold(const std::vector<v1::Event>& effective,
                            PartOf part_of, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const std::string& dyad : AllDyads(effective)) {
    std::map<int, std::vector<v1::Event>> parts;
    for (const v1::Event& event : effective) parts[part_of(event)].push_back(event);
    std::vector<v1::RelationshipState> folds;
    for (const auto& [part, events] : parts) {
      folds.push_back(BuildState(dyad, events));
    }
    std::shuffle(folds.begin(), folds.end(), rng);
    v1::RelationshipState merged;
    merged.set_dyad(dyad);
    for (const v1::RelationshipState& fold : folds) MergeState(fold, &merged);
    ASSERT_EQ(SerializeState(merged),
              SerializeState(BuildState(dyad, effective)))
        << dyad << " from " << parts.size() << " parts";
  }
}

TEST(StateMergeTest, YearsOfTheGeneratedLogMergeIntoItsState) {
  const std::vector<v1::Event> effective =
      Effective(GeneratedEvents(31, 4, 50, 0.1, 4000));
  ExpectMergesAreTheFold(
      effective,
      [](const v1::Event& e) {
        return static_cast<int>(IntervalOf(e.occurred()).last / 10000);
      },
      1);
}

TEST(StateMergeTest, AnySplitMergesIntoTheState) {
  const std::vector<v1::Event> effective =
      Effective(GeneratedEvents(7, 3, 30, 0.15, 3000));
  for (int parts : {2, 7, 50}) {
    std::mt19937_64 rng(parts);
    std::map<std::string, int> part;
    for (const v1::Event& event : effective) {
      part[event.id()] = static_cast<int>(rng() % parts);
    }
    ExpectMergesAreTheFold(
        effective, [&part](const v1::Event& e) { return part.at(e.id()); },
        parts);
  }
}

TEST(StateMergeTest, EventByEventMergesIntoTheSeedState) {
  const std::vector<v1::Event> effective = Effective(SeedEvents());
  int n = 0;
  std::map<std::string, int> part;
  for (const v1::Event& event : effective) part[event.id()] = n++;
  ExpectMergesAreTheFold(
      effective, [&part](const v1::Event& e) { return part.at(e.id()); }, 3);
}

TEST(StateMergeTest, MergingAnEmptyStateChangesNothing) {
  const std::vector<v1::Event> effective = Effective(SeedEvents());
  for (const std::string& dyad : AllDyads(effective)) {
    v1::RelationshipState state = BuildState(dyad, effective);
    const std::string before = SerializeState(state);
    v1::RelationshipState empty;
    empty.set_dyad(dyad);
    MergeState(empty, &state);
    EXPECT_EQ(SerializeState(state), before) << dyad;
  }
}

}  // namespace
}  // namespace annals::services
