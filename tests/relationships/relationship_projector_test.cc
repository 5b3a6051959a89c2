// The relationship projector over a real RocksDB log: the stored state of
// every dyad is the pure BuildState of its effective events, whatever the
// order and grouping of the appends, with corrections as if the events had
// been written corrected, and a rebuild finds exactly what is stored.
#include "services/relationship_projector.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/projection.h"
#include "services/validation.h"
#include "storage/format.h"
#include "tests/relationships/seeded_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::ProjectedLog;
using ::annals::testing::SeedEvents;
using ::annals::testing::StatusIs;
using storage::ProjectionFamily;
namespace format = storage::format;

// Every dyad the events touch.
std::set<std::string> AllDyads(const std::vector<v1::Event>& events) {
  std::set<std::string> dyads;
  for (const v1::Event& event : events) {
    for (std::string& dyad : DyadsOf(event)) dyads.insert(std::move(dyad));
  }
  return dyads;
}

// A correction `id` of `corrected_id`: RETRACT when `amended` is null.
v1::Event MakeCorrection(const std::string& id, const std::string& corrected_id,
                         const v1::Event* amended) {
  v1::Event event = storage::testing::MakeEvent(id, "Corrects an event.");
  v1::Correction* correction = event.mutable_correction();
  correction->set_corrects_event_id(corrected_id);
  correction->set_reason("the article was misread");
  if (amended == nullptr) {
    correction->set_action(v1::Correction::ACTION_RETRACT);
  } else {
    correction->set_action(v1::Correction::ACTION_AMEND);
    *correction->mutable_amended() = *amended;
    correction->mutable_amended()->clear_id();
  }
  NormalizeEvent(&event);
  std::vector<rpc::FieldViolation> violations;
  ValidateEvent(event, "correction", &violations);
  EXPECT_TRUE(violations.empty()) << violations.front().field << ": "
                                  << violations.front().description;
  return event;
}

// The first seed event touching `dyad` of kind `kind`.
const v1::Event& FirstOf(absl::string_view dyad, absl::string_view kind) {
  for (const v1::Event& event : SeedEvents()) {
    const auto dyads = DyadsOf(event);
    if (KindName(event) == kind &&
        std::find(dyads.begin(), dyads.end(), dyad) != dyads.end()) {
      return event;
    }
  }
  ADD_FAILURE() << "no " << kind << " in " << dyad;
  return SeedEvents().front();
}

// The seed plus corrections, and the same events written corrected.
struct Corrected {
  std::vector<v1::Event> originals;    // seed + one new event
  std::vector<v1::Event> corrections;  // each after what it corrects
  std::vector<v1::Event> as_written;   // the effective events
};

Corrected MakeCorrected() {
  Corrected c;
  c.originals = SeedEvents();
  v1::Event extra = storage::testing::MakeEvent("extra-meeting", "An extra.");
  NormalizeEvent(&extra);
  c.originals.push_back(extra);

  // A: amended twice; the second moves it from JPN-PRK to JPN-USA.
  const v1::Event a = FirstOf("JPN-PRK", "meeting");
  v1::Event a1 = a;
  a1.set_summary("First amendment of the summary.");
  v1::Event a2 = a1;
  a2.clear_target();
  a2.add_target("USA");
  a2.mutable_occurred()->mutable_start()->set_year(2003);
  // B: retracted, then amended back into the log.
  const v1::Event b = FirstOf("PRK-USA", "meeting");
  v1::Event b1 = b;
  b1.add_tags("reinstated");
  // C: retracted for good.
  const v1::Event c_event = FirstOf("JPN-PRK", "resolution");
  // extra: amended into another month.
  v1::Event extra1 = extra;
  extra1.mutable_occurred()->mutable_start()->set_month(10);

  c.corrections = {
      MakeCorrection("fix-a1", a.id(), &a1),
      MakeCorrection("fix-b-retract", b.id(), nullptr),
      MakeCorrection("fix-a2", a.id(), &a2),
      MakeCorrection("fix-c", c_event.id(), nullptr),
      MakeCorrection("fix-b-reinstate", b.id(), &b1),
      MakeCorrection("fix-extra", extra.id(), &extra1),
  };
  for (const v1::Event& event : c.originals) {
    if (event.id() == c_event.id()) continue;
    if (event.id() == a.id()) {
      c.as_written.push_back(a2);
    } else if (event.id() == b.id()) {
      c.as_written.push_back(b1);
    } else if (event.id() == extra.id()) {
      c.as_written.push_back(extra1);
    } else {
      c.as_written.push_back(event);
    }
  }
  for (v1::Event& event : c.as_written) NormalizeEvent(&event);
  return c;
}

// `corrected.originals` shuffled, with each correction inserted at a random
// place after the event it corrects (and after the corrections before it).
std::vector<v1::Event> ShuffledWithCorrections(const Corrected& corrected,
                                               std::mt19937* random) {
  std::vector<v1::Event> events = corrected.originals;
  std::shuffle(events.begin(), events.end(), *random);
  size_t floor = 0;  // corrections keep their relative order
  for (const v1::Event& correction : corrected.corrections) {
    const std::string& target = correction.correction().corrects_event_id();
    size_t after = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].id() == target) after = i + 1;
    }
    after = std::max(after, floor);
    std::uniform_int_distribution<size_t> pick(after, events.size());
    const size_t at = pick(*random);
    events.insert(events.begin() + static_cast<std::ptrdiff_t>(at), correction);
    floor = at + 1;
  }
  return events;
}

// subject -> sorted (date key, effective content) of its timeline entries:
// what the timelines say, independent of positions.
std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> Timelines(
    ProjectedLog& log) {
  std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> out;
  for (const auto& [key, value] : log.Dump(ProjectionFamily::kDyadTimeline)) {
    const size_t nul = key.find('\0');
    if (nul == std::string::npos || nul + 1 >= key.size() ||
        key[nul + 1] != format::kTimelineTag) {
      continue;
    }
    uint32_t date = 0;
    uint64_t position = 0;
    EXPECT_TRUE(format::ParseTimelineSuffix(
        absl::string_view(key).substr(nul + 2), &date, &position));
    uint64_t holder = 0;
    EXPECT_TRUE(format::ParseBigEndian64(value, &holder));
    auto recorded = log.log().GetEventAt(holder);
    EXPECT_THAT(recorded.status(), IsOk());
    if (!recorded.ok()) continue;
    out[key.substr(0, nul)].emplace_back(
        date, ContentOf(*recorded).SerializeAsString());
  }
  for (auto& [subject, entries] : out) std::sort(entries.begin(), entries.end());
  return out;
}

std::vector<v1::RecordedEvent> ReadEverything(storage::EventLog& log) {
  auto page = log.ReadAll(0, storage::Direction::kForward, 100000);
  EXPECT_THAT(page.status(), IsOk());
  return page.ok() ? page->events : std::vector<v1::RecordedEvent>{};
}

// Every stored state is BuildState over the log's effective events.
void ExpectStatesAreBuildState(ProjectedLog& log) {
  const std::vector<v1::Event> effective =
      EffectiveEvents(ReadEverything(log.log()));
  const std::set<std::string> dyads = AllDyads(effective);
  const auto stored = log.Dump(ProjectionFamily::kRelationships);
  size_t states = 0;
  for (const auto& [key, value] : stored) {
    if (key[0] == format::kByActivityTag || key[0] == format::kByIndexTag) {
      continue;
    }
    ++states;
    EXPECT_TRUE(dyads.contains(key)) << "state of " << key << " has no events";
    EXPECT_EQ(value, SerializeState(BuildState(key, effective))) << key;
  }
  EXPECT_EQ(states, dyads.size());
}

TEST(RelationshipProjectorTest, StoredStatesAreBuildStateOfTheSeed) {
  ProjectedLog log;
  log.Append(SeedEvents());
  ExpectStatesAreBuildState(log);
  auto jpn_prk = log.log().ReadProjection(ProjectionFamily::kRelationships,
                                          "JPN-PRK");
  ASSERT_THAT(jpn_prk.status(), IsOk());
  v1::RelationshipState state;
  ASSERT_TRUE(state.ParseFromString(*jpn_prk));
  EXPECT_GT(state.event_count(), 10);
}

TEST(RelationshipProjectorTest, AnyOrderAndGroupingGivesByteIdenticalProjections) {
  ProjectedLog reference;
  reference.Append(SeedEvents());
  const auto states = reference.Dump(ProjectionFamily::kRelationships);
  const auto timelines = Timelines(reference);
  std::mt19937 random(20190318);
  for (int round = 0; round < 6; ++round) {
    std::vector<v1::Event> events = SeedEvents();
    std::shuffle(events.begin(), events.end(), random);
    ProjectedLog log;
    const size_t batch = std::vector<size_t>{1, 2, 5, 13, 40, 200}[round];
    log.Append(events, batch);
    EXPECT_EQ(log.Dump(ProjectionFamily::kRelationships), states)
        << "round " << round << ", batches of " << batch;
    EXPECT_EQ(Timelines(log), timelines) << "round " << round;
  }
}

TEST(RelationshipProjectorTest, CorrectionsLeaveTheStateAsIfWrittenCorrected) {
  const Corrected corrected = MakeCorrected();
  ProjectedLog written_corrected;
  written_corrected.Append(corrected.as_written);
  const auto states = written_corrected.Dump(ProjectionFamily::kRelationships);
  const auto timelines = Timelines(written_corrected);

  ProjectedLog in_order;
  in_order.Append(corrected.originals);
  in_order.Append(corrected.corrections);
  EXPECT_EQ(in_order.Dump(ProjectionFamily::kRelationships), states);
  EXPECT_EQ(Timelines(in_order), timelines);
  ExpectStatesAreBuildState(in_order);

  std::mt19937 random(2014);
  for (int round = 0; round < 6; ++round) {
    ProjectedLog log;
    const size_t batch = std::vector<size_t>{1, 3, 7, 20, 50, 500}[round];
    log.Append(ShuffledWithCorrections(corrected, &random), batch);
    EXPECT_EQ(log.Dump(ProjectionFamily::kRelationships), states)
        << "round " << round << ", batches of " << batch;
    EXPECT_EQ(Timelines(log), timelines) << "round " << round;
  }
}

TEST(RelationshipProjectorTest, RetractingTheOnlyEventOfADyadRemovesItsState) {
  ProjectedLog log;
  v1::Event only = storage::testing::MakeEvent("only");
  only.clear_target();
  only.add_target("MNG");
  NormalizeEvent(&only);
  log.Append({only});
  ASSERT_THAT(log.log().ReadProjection(ProjectionFamily::kRelationships, "JPN-MNG"),
              IsOk());
  EXPECT_EQ(log.Dump(ProjectionFamily::kRelationships).size(), 3u);

  log.Append({MakeCorrection("retract-only", "only", nullptr)});
  EXPECT_THAT(log.log().ReadProjection(ProjectionFamily::kRelationships, "JPN-MNG"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(log.Dump(ProjectionFamily::kRelationships).empty())
      << "no state and no ordering keys are left";
  EXPECT_TRUE(Timelines(log).empty());
}

TEST(RelationshipProjectorTest, RebuildFindsWhatIsStored) {
  const Corrected corrected = MakeCorrected();
  ProjectedLog log;
  log.Append(corrected.originals, 4);
  log.Append(corrected.corrections);
  auto report = log.log().RebuildProjections(/*repair=*/false);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference;
  EXPECT_EQ(report->events,
            corrected.originals.size() + corrected.corrections.size());
  EXPECT_GT(report->keys, 500u);
}

}  // namespace
}  // namespace annals::services
