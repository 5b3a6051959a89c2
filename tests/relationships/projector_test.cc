// The relationship projector over a real RocksDB log: the stored state of
// every dyad is the pure BuildState of its effective events, whatever the
// order and grouping of the appends, with corrections as if the events had
// been written corrected, and a rebuild finds exactly what is stored.
#include "services/relationships/projector.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/model/projection.h"
#include "services/model/validation.h"
#include "storage/format.h"
#include "tests/model/builders.h"
#include "tests/relationships/seeded_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::AllDyads;
using ::annals::testing::GeneratedEvents;
using ::annals::testing::IsOk;
using ::annals::testing::MakeCorrection;
using ::annals::testing::ProjectedLog;
using ::annals::testing::ReadEverything;
using ::annals::testing::SeedEvents;
using ::annals::testing::StatusIs;
using storage::ProjectionFamily;
namespace format = storage::format;

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

// Events of JPN-PRK built so that corrections take away exactly what the
// state keeps (the refill cases of services/model/projection.h): the last event
// and the first (ties on the date key, decided by id against position
// order), the last meeting, a kept agreement (and one that was not kept),
// a recent statement, the only event with a tag, the latest action on a
// sanction measure and a measure's only event, the latest hardening of a
// policy that suspends an agreement, a resolution's deciding action and
// its tabling; and amendments that move events in and out of those places
// and to another dyad.
Corrected MakeRefillCases() {
  using namespace ::annals::testing;  // builders
  using M = v1::Meeting;
  using R = v1::ResolutionAction;
  using S = v1::Sanction;
  using P = v1::PolicyChange;
  Corrected c;
  std::vector<v1::Event>& e = c.originals;
  // Ends: three last events on one day and three first events known only
  // to the year, written so that position order is not id order.
  for (const char* id : {"last-z", "last-m", "last-a"}) {
    e.push_back(Military(id, {2024, 5, 1}, v1::MilitaryAction::TYPE_WEAPONS_TEST));
  }
  for (const char* id : {"first-c", "first-a", "first-b"}) {
    e.push_back(Military(id, {1991}, v1::MilitaryAction::TYPE_EXERCISE));
  }
  // Meetings: a planned one after the last that took place.
  e.push_back(Meeting("meet-0", {2001, 4}));
  e.push_back(Meeting("meet-1", {2002, 9, 17}));
  e.push_back(Meeting("meet-2", {2004, 5, 22}, M::LEVEL_MINISTERS, "Tokyo"));
  e.push_back(Meeting("meet-planned", {2005, 1}, M::LEVEL_LEADERS, "Seoul",
                      M::OUTCOME_PLANNED));
  // 23 agreements, one a year from 1993; three are not kept.
  for (int i = 0; i < 23; ++i) {
    e.push_back(Agreement(absl::StrCat("agr-", 10 + i), {1993 + i, 6, 1},
                          i == 12 ? "Sanctions relief" : absl::StrCat("Accord ", i)));
  }
  // 12 statements: ten on one day (kept by id) and two later.
  for (int i = 0; i < 10; ++i) {
    e.push_back(Statement(absl::StrCat("stm-", 10 + i), {2010, 3, 1},
                          v1::Statement::STANCE_CRITICAL));
  }
  e.push_back(Statement("stm-late", {2011}, v1::Statement::STANCE_SUPPORTIVE));
  e.push_back(Statement("stm-latest", {2011, 2}, v1::Statement::STANCE_NEUTRAL));
  // Tags: one event alone with "only-here", two with "shared".
  e.push_back(Humanitarian("tagged-only", {2003, 10},
                           v1::HumanitarianDevelopment::TYPE_RETURN));
  e.back().add_tags("only-here");
  e.back().add_tags("shared");
  e.push_back(Humanitarian("tagged-too", {2004, 10},
                           v1::HumanitarianDevelopment::TYPE_RETURN));
  e.back().add_tags("shared");
  // Sanctions: a measure imposed then lifted, one named once.
  e.push_back(Sanction("sanction-imposed", {2006, 10, 14}, S::ACTION_IMPOSED,
                       {"port entry ban", "import ban"}));
  e.push_back(Sanction("sanction-lifted", {2014, 7, 4}, S::ACTION_LIFTED,
                       {"port entry ban"}));
  e.push_back(Sanction("sanction-once", {2016, 2, 10}, S::ACTION_IMPOSED,
                       {"remittance ban"}));
  // A policy hardened twice, then softened; the agreement of the same
  // title (agr-22, 2005) is suspended by the latest hardening.
  e.push_back(Policy("policy-hard-1", {2008, 1}, "Sanctions relief",
                     P::DIRECTION_HARDENING));
  e.push_back(Policy("policy-hard-2", {2009, 1}, "Sanctions relief",
                     P::DIRECTION_HARDENING));
  e.push_back(Policy("policy-soft", {2012, 1}, "Sanctions relief",
                     P::DIRECTION_SOFTENING));
  // UNHRC 2008: tabled by EU, co-sponsored by JPN, adopted, then the
  // adoption recorded again by a later action of the same year.
  // (JPN sponsors the body's actions, so they touch JPN-PRK too.)
  e.push_back(Resolution("res-tabled", {2008, 3, 1}, R::ACTION_TABLED, {"JPN"},
                         {"PRK"}, "UNHRC", "A/HRC/RES/7/15"));
  e.push_back(Resolution("res-cosponsored", {2008, 3, 2},
                         R::ACTION_CO_SPONSORED, {"EU"}, {"PRK"}, "UNHRC",
                         "A/HRC/RES/7/15"));
  e.back().mutable_resolution()->add_sponsors("JPN");
  e.push_back(Resolution("res-adopted", {2008, 3, 27}, R::ACTION_ADOPTED,
                         {"UNHRC"}, {"PRK"}, "UNHRC", "A/HRC/RES/7/15"));
  e.back().mutable_resolution()->add_sponsors("JPN");
  e.push_back(Resolution("res-rejected", {2008, 3, 20}, R::ACTION_REJECTED,
                         {"UNHRC"}, {"PRK"}, "UNHRC", "A/HRC/RES/7/16"));
  e.back().mutable_resolution()->add_sponsors("JPN");
  // Moved to JPN-USA, then back (as PRK's) to another date.
  e.push_back(Military("mover", {2000, 1, 1}, v1::MilitaryAction::TYPE_EXERCISE));
  for (v1::Event& event : e) NormalizeEvent(&event);

  auto find = [&e](absl::string_view id) -> const v1::Event& {
    for (const v1::Event& event : e) {
      if (event.id() == id) return event;
    }
    ADD_FAILURE() << "no event " << id;
    return e.front();
  };
  // id -> its content once corrected; absent: retracted.
  std::map<std::string, std::optional<v1::Event>> fixed;
  auto retract = [&](const std::string& id) {
    c.corrections.push_back(MakeCorrection("fix-" + id, id, nullptr));
    fixed[id] = std::nullopt;
  };
  auto amend = [&](const std::string& id, v1::Event amended, int n = 1) {
    amended.set_id(id);
    NormalizeEvent(&amended);
    c.corrections.push_back(
        MakeCorrection(absl::StrCat("fix-", n, "-", id), id, &amended));
    fixed[id] = amended;
  };
  retract("last-z");         // the last event: last-m of its ties
  retract("first-a");        // the first event: first-b of its ties
  retract("meet-2");         // the last meeting: meet-1 again
  retract("agr-30");         // a kept agreement: agr-12 comes back
  retract("agr-10");         // an agreement no longer kept: nothing moves
  retract("stm-latest");     // the most recent statement: stm-10 comes back
  retract("tagged-only");    // the only event with "only-here"
  retract("sanction-lifted");  // the latest on "port entry ban"
  retract("sanction-once");    // the only event of "remittance ban"
  retract("policy-hard-2");    // the suspending hardening: policy-hard-1
  retract("res-adopted");      // the deciding action: res-rejected decides
  retract("res-tabled");       // EU tabled nothing any more
  {
    // meet-1 turns out to have been only planned: meet-0 is the last.
    v1::Event planned = find("meet-1");
    planned.mutable_meeting()->set_outcome(v1::Meeting::OUTCOME_PLANNED);
    amend("meet-1", planned);
  }
  {
    // agr-11, not kept, moves to 2023: kept, the most recent agreement.
    v1::Event later = find("agr-11");
    later.mutable_occurred()->mutable_start()->set_year(2023);
    amend("agr-11", later);
  }
  {
    v1::Event moved = find("mover");
    moved.clear_target();
    moved.add_target("USA");
    amend("mover", moved, 1);
    moved.clear_target();
    moved.add_target("JPN");
    moved.clear_source();
    moved.add_source("PRK");
    moved.mutable_occurred()->mutable_start()->set_year(1999);
    moved.mutable_occurred()->mutable_start()->set_month(4);
    moved.mutable_occurred()->mutable_start()->set_day(2);
    amend("mover", moved, 2);
  }
  {
    // The first hardening becomes a softening: the policy has no hardening
    // left and agr-22 is no longer suspended.
    v1::Event soft = find("policy-hard-1");
    soft.mutable_policy_change()->set_direction(P::DIRECTION_SOFTENING);
    amend("policy-hard-1", soft);
  }
  for (const v1::Event& event : e) {
    auto it = fixed.find(event.id());
    if (it == fixed.end()) {
      c.as_written.push_back(event);
    } else if (it->second.has_value()) {
      c.as_written.push_back(*it->second);
    }
  }
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

// subject -> sorted (first day and last day, effective content) of its
// timeline entries: what the timelines say, independent of positions.
std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> Timelines(
    ProjectedLog& log) {
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> out;
  for (const auto& [key, value] : log.Dump(ProjectionFamily::kDyadTimeline)) {
    const size_t nul = key.find('\0');
    if (nul == std::string::npos || nul + 1 >= key.size() ||
        key[nul + 1] != format::kTimelineTag) {
      continue;
    }
    uint32_t date = 0, last_day = 0;
    uint64_t position = 0;
    EXPECT_TRUE(format::ParseTimelineSuffix(
        absl::string_view(key).substr(nul + 2), &date, &last_day, &position));
    uint64_t holder = 0;
    uint8_t kind = 0;
    EXPECT_TRUE(format::ParseTimelineValue(value, &holder, &kind));
    auto recorded = log.log().GetEventAt(holder);
    EXPECT_THAT(recorded.status(), IsOk());
    if (!recorded.ok()) continue;
    // The entry names its content's kind.
    EXPECT_EQ(kind, static_cast<uint8_t>(ContentOf(*recorded).what_case()))
        << key;
    out[key.substr(0, nul)].emplace_back(
        uint64_t{date} << 32 | last_day,
        ContentOf(*recorded).SerializeAsString());
  }
  for (auto& [subject, entries] : out) std::sort(entries.begin(), entries.end());
  return out;
}

// Each dyad's stored state in a dump of the relationships family: its
// record and series entries assembled (services/relationships/projector.h),
// the GetRelationshipResponse less its head. An entry without its dyad's
// record fails the test.
std::map<std::string, std::string> AssembledStates(
    const std::map<std::string, std::string>& dump) {
  std::map<std::string, std::string> states;
  for (const auto& [key, value] : dump) {
    if (key[0] == format::kByActivityTag || key[0] == format::kByIndexTag) {
      continue;
    }
    const size_t nul = key.find('\0');
    if (nul != std::string::npos) {
      EXPECT_TRUE(dump.contains(key.substr(0, nul)))
          << "a series entry of " << key.substr(0, nul) << " without its record";
      continue;
    }
    const std::string prefix = RelationshipPartsPrefix(key);
    std::vector<std::string> parts;
    for (auto part = dump.lower_bound(prefix);
         part != dump.end() && part->first.compare(0, prefix.size(), prefix) == 0;
         ++part) {
      parts.push_back(part->second);
    }
    absl::StatusOr<std::string> assembled =
        AssembleRelationship(key, value, parts);
    EXPECT_THAT(assembled.status(), IsOk()) << key;
    if (assembled.ok()) states[key] = *std::move(assembled);
  }
  return states;
}

v1::RelationshipState StoredState(ProjectedLog& log, const std::string& dyad) {
  absl::StatusOr<v1::RelationshipState> state = ParseStoredRelationship(
      AssembledStates(log.Dump(ProjectionFamily::kRelationships)).at(dyad),
      dyad);
  EXPECT_THAT(state.status(), IsOk());
  return state.ok() ? *std::move(state) : v1::RelationshipState();
}

// Every stored state is BuildState over the log's effective events, with
// its current index.
void ExpectStatesAreBuildState(ProjectedLog& log) {
  const std::vector<v1::Event> effective =
      EffectiveEvents(ReadEverything(log.log()));
  const std::set<std::string> dyads = AllDyads(effective);
  const auto stored = AssembledStates(log.Dump(ProjectionFamily::kRelationships));
  for (const auto& [dyad, bytes] : stored) {
    EXPECT_TRUE(dyads.contains(dyad)) << "state of " << dyad << " has no events";
    v1::GetRelationshipResponse response;
    ASSERT_TRUE(response.ParseFromString(bytes)) << dyad;
    const v1::RelationshipState built = BuildState(dyad, effective);
    EXPECT_EQ(SerializeState(response.state()), SerializeState(built)) << dyad;
    EXPECT_EQ(response.index().SerializeAsString(),
              CurrentIndexOf(built).SerializeAsString())
        << dyad;
  }
  EXPECT_EQ(stored.size(), dyads.size());
}

TEST(RelationshipProjectorTest, StoredStatesAreBuildStateOfTheSeed) {
  ProjectedLog log;
  log.Append(SeedEvents());
  ExpectStatesAreBuildState(log);
  // What a query reads on one snapshot is the same assembly.
  absl::StatusOr<std::string> jpn_prk =
      ReadStoredRelationship(log.log(), "JPN-PRK");
  ASSERT_THAT(jpn_prk.status(), IsOk());
  EXPECT_EQ(*jpn_prk,
            AssembledStates(log.Dump(ProjectionFamily::kRelationships))
                .at("JPN-PRK"));
  absl::StatusOr<v1::RelationshipState> state =
      ParseStoredRelationship(*jpn_prk, "JPN-PRK");
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_GT(state->event_count(), 10);
  EXPECT_GT(state->goldstein_monthly_size(), 1);
  EXPECT_THAT(ReadStoredRelationship(log.log(), "FRA-JPN").status(),
              StatusIs(absl::StatusCode::kNotFound));
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

// A group takes the state the group before it left only for the very
// record that state stands for. One projector writing two logs that hold
// different events of the same dyads (as a check projects into its scratch
// database beside the writer; as a group that was never written leaves the
// stored record as it was) gives each log the states of its own events.
TEST(RelationshipProjectorTest, AGroupTakesALeftStateOnlyForItsOwnRecord) {
  RelationshipProjector shared;
  ProjectedLog every(&shared), every_other(&shared);
  const std::vector<v1::Event>& seed = SeedEvents();
  std::vector<v1::Event> halved;
  for (size_t i = 0; i < seed.size(); ++i) {
    every.Append({seed[i]});
    if (i % 2 == 0) {
      every_other.Append({seed[i]});
      halved.push_back(seed[i]);
    }
  }
  ProjectedLog every_alone, every_other_alone;
  every_alone.Append(seed);
  every_other_alone.Append(halved);
  EXPECT_EQ(every.Dump(ProjectionFamily::kRelationships),
            every_alone.Dump(ProjectionFamily::kRelationships));
  EXPECT_EQ(every_other.Dump(ProjectionFamily::kRelationships),
            every_other_alone.Dump(ProjectionFamily::kRelationships));
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

TEST(RelationshipProjectorTest, CorrectionsOfWhatTheStateKeepsRefillIt) {
  const Corrected corrected = MakeRefillCases();
  ProjectedLog written_corrected;
  written_corrected.Append(corrected.as_written);
  const auto states = written_corrected.Dump(ProjectionFamily::kRelationships);
  ExpectStatesAreBuildState(written_corrected);

  // What the cases are about did change.
  ProjectedLog uncorrected;
  uncorrected.Append(corrected.originals);
  const v1::RelationshipState before = StoredState(uncorrected, "JPN-PRK");
  const v1::RelationshipState after = StoredState(written_corrected, "JPN-PRK");
  EXPECT_EQ(before.first_event().event_id(), "first-a");
  EXPECT_EQ(after.first_event().event_id(), "first-b");
  EXPECT_EQ(before.last_event().event_id(), "last-z");
  EXPECT_EQ(after.last_event().event_id(), "last-m");
  EXPECT_EQ(before.last_meeting().event().event_id(), "meet-2");
  EXPECT_EQ(after.last_meeting().event().event_id(), "meet-0");
  EXPECT_THAT(before.tags(), ::testing::Contains("only-here"));
  EXPECT_THAT(after.tags(), ::testing::ElementsAre("shared"));
  EXPECT_EQ(after.agreements_size(), kMaxAgreements);
  EXPECT_EQ(after.agreements(0).event().event_id(), "agr-13");
  EXPECT_EQ(after.agreements(19).event().event_id(), "agr-11");
  ASSERT_EQ(before.agreements(9).event().event_id(), "agr-22");
  EXPECT_TRUE(before.agreements(9).has_suspended_by());
  ASSERT_EQ(after.agreements(9).event().event_id(), "agr-22");
  EXPECT_FALSE(after.agreements(9).has_suspended_by());
  EXPECT_EQ(after.recent_statements(0).event().event_id(), "stm-late");
  EXPECT_EQ(after.recent_statements(9).event().event_id(), "stm-11");
  ASSERT_EQ(after.sanctions_size(), 2);  // import ban, port entry ban
  EXPECT_EQ(after.sanctions(1).last_event().event_id(), "sanction-imposed");
  ASSERT_EQ(after.resolutions_size(), 1);
  EXPECT_EQ(after.resolutions(0).decided_by().event_id(), "res-rejected");
  EXPECT_TRUE(after.resolutions(0).tabled_by().empty());
  ASSERT_EQ(after.policies_size(), 1);
  EXPECT_FALSE(after.policies(0).has_latest_hardening());

  ProjectedLog in_order;
  in_order.Append(corrected.originals);
  in_order.Append(corrected.corrections);
  EXPECT_EQ(in_order.Dump(ProjectionFamily::kRelationships), states);
  EXPECT_EQ(Timelines(in_order), Timelines(written_corrected));
  ExpectStatesAreBuildState(in_order);

  std::mt19937 random(20021017);
  for (int round = 0; round < 8; ++round) {
    ProjectedLog log;
    const size_t batch = std::vector<size_t>{1, 1, 2, 3, 5, 8, 20, 100}[round];
    log.Append(ShuffledWithCorrections(corrected, &random), batch);
    EXPECT_EQ(log.Dump(ProjectionFamily::kRelationships), states)
        << "round " << round << ", batches of " << batch;
    ExpectStatesAreBuildState(log);
    auto report = log.log().RebuildProjections(/*repair=*/false);
    ASSERT_THAT(report.status(), IsOk());
    EXPECT_TRUE(report->matched())
        << "round " << round << ": " << report->first_difference;
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
  // Its record, its year's months and its two ordering keys.
  EXPECT_EQ(log.Dump(ProjectionFamily::kRelationships).size(), 4u);

  log.Append({MakeCorrection("retract-only", "only", nullptr)});
  EXPECT_THAT(log.log().ReadProjection(ProjectionFamily::kRelationships, "JPN-MNG"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(log.Dump(ProjectionFamily::kRelationships).empty())
      << "no state and no ordering keys are left";
  EXPECT_TRUE(Timelines(log).empty());
}

// Tags are counted in the state: no index entry names one, and a retracted
// event takes its tags with it when no other event carries them.
TEST(RelationshipProjectorTest, TagsAreCountedInTheStateNotIndexed) {
  ProjectedLog log;
  v1::Event first = storage::testing::MakeEvent("first");
  first.clear_tags();
  first.add_tags("only-first");
  first.add_tags("shared");
  NormalizeEvent(&first);
  v1::Event second = storage::testing::MakeEvent("second");
  second.clear_tags();
  second.add_tags("shared");
  NormalizeEvent(&second);
  log.Append({first, second});
  for (const auto& [key, value] : log.Dump(ProjectionFamily::kDyadTimeline)) {
    EXPECT_FALSE(absl::StrContains(key, "shared")) << absl::CEscape(key);
  }
  v1::RelationshipState state = StoredState(log, "JPN-PRK");
  ASSERT_EQ(state.tag_counts_size(), 2);
  EXPECT_EQ(state.tag_counts(1).tag(), "shared");
  EXPECT_EQ(state.tag_counts(1).count(), 2);

  log.Append({MakeCorrection("retract-first", "first", nullptr)});
  state = StoredState(log, "JPN-PRK");
  EXPECT_THAT(state.tags(), ::testing::ElementsAre("shared"));
  ASSERT_EQ(state.tag_counts_size(), 1);
  EXPECT_EQ(state.tag_counts(0).count(), 1);
  ExpectStatesAreBuildState(log);
}

// An actor's timeline is its dyads' timelines and its own entries merged
// (services/relationships/actor_timeline.h): the actor has entries of its
// own only for the events where it is in none of the event's dyads.
TEST(RelationshipProjectorTest, ActorsHaveTimelineEntriesOnlyOutsideTheirDyads) {
  ProjectedLog log;
  v1::Event dyadic = storage::testing::MakeEvent("dyadic");
  v1::Event alone = storage::testing::MakeEvent("alone");
  alone.clear_target();  // JPN alone: no dyad
  NormalizeEvent(&alone);
  v1::Event two_sources = storage::testing::MakeEvent("two-sources");
  two_sources.add_source("USA");  // JPN-PRK and PRK-USA; not JPN-USA
  NormalizeEvent(&two_sources);
  log.Append({dyadic, alone, two_sources});
  // Each subject's number of timeline entries.
  auto entries = [&log] {
    std::map<std::string, size_t> sizes;
    for (const auto& [subject, list] : Timelines(log)) {
      sizes[subject] = list.size();
    }
    return sizes;
  };
  EXPECT_EQ(entries(), (std::map<std::string, size_t>{
                         {"", 3}, {"JPN", 1}, {"JPN-PRK", 2}, {"PRK-USA", 1}}));

  // A correction moves the entries with the event's subjects.
  v1::Event moved = alone;
  moved.clear_id();
  moved.add_target("FRA");
  NormalizeEvent(&moved);
  log.Append({MakeCorrection("move-alone", "alone", &moved)});
  EXPECT_EQ(entries(), (std::map<std::string, size_t>{
                         {"", 3}, {"FRA-JPN", 1}, {"JPN-PRK", 2},
                         {"PRK-USA", 1}}));
}

TEST(RelationshipProjectorTest, AGeneratedLogWithCorrectionsIsItsRebuild) {
  // Big dyads (3 of them), many corrections, several rebuild chunks.
  const std::vector<v1::Event> events = GeneratedEvents(11, 3, 100, 0.1, 2500);
  ProjectedLog log;
  log.Append(events, 100);
  ExpectStatesAreBuildState(log);
  auto report = log.log().RebuildProjections(/*repair=*/false);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference;
  EXPECT_EQ(report->events, 2500u);
}

// Checkpoints every few events, written in groups of every size: the
// rebuild writes the same ones.
TEST(RelationshipProjectorTest, CheckpointsAreTheirRebuild) {
  const std::vector<v1::Event> events = GeneratedEvents(5, 4, 20, 0.1, 800);
  ProjectedLog log(/*checkpoint_events=*/7);
  for (size_t i = 0, batch = 1; i < events.size(); i += batch, ++batch) {
    log.Append(std::vector<v1::Event>(
        events.begin() + i,
        events.begin() + std::min(events.size(), i + batch)));
  }
  size_t checkpoints = 0;
  for (const auto& [key, value] :
       log.Dump(ProjectionFamily::kDyadTimeline)) {
    const size_t nul = key.find('\0');
    if (nul != std::string::npos && nul + 1 < key.size() &&
        key[nul + 1] == storage::format::kCheckpointTag) {
      ++checkpoints;
    }
  }
  EXPECT_GT(checkpoints, 50u);  // about one per 7 events of each dyad
  auto report = log.log().RebuildProjections(/*repair=*/false);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference;
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

// The relationship projector, noting the keys of the relationships family
// that each commit group puts.
class PutRecorder : public storage::Projector {
 public:
  std::string Version() const override { return projector_.Version(); }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       storage::ProjectionContext* context) override {
    put_.clear();
    Recording recording(context, &put_);
    return projector_.Project(events, &recording);
  }
  const std::set<std::string>& put() const { return put_; }

 private:
  class Recording : public storage::ProjectionContext {
   public:
    Recording(storage::ProjectionContext* context, std::set<std::string>* put)
        : context_(context), put_(put) {}
    absl::StatusOr<std::string> Get(ProjectionFamily family,
                                    absl::string_view key) override {
      return context_->Get(family, key);
    }
    absl::Status Put(ProjectionFamily family, absl::string_view key,
                     absl::string_view value) override {
      if (family == ProjectionFamily::kRelationships) put_->emplace(key);
      return context_->Put(family, key, value);
    }
    absl::Status Delete(ProjectionFamily family,
                        absl::string_view key) override {
      return context_->Delete(family, key);
    }
    absl::Status Scan(ProjectionFamily family, absl::string_view prefix,
                      const std::function<void(absl::string_view,
                                               absl::string_view)>& visit)
        override {
      return context_->Scan(family, prefix, visit);
    }
    absl::Status ScanUntil(ProjectionFamily family, absl::string_view prefix,
                           Order order,
                           const std::function<bool(absl::string_view,
                                                    absl::string_view)>& visit)
        override {
      return context_->ScanUntil(family, prefix, order, visit);
    }
    absl::StatusOr<v1::RecordedEvent> EventAt(uint64_t position) override {
      return context_->EventAt(position);
    }
    absl::StatusOr<uint64_t> PositionOf(absl::string_view id) override {
      return context_->PositionOf(id);
    }

   private:
    storage::ProjectionContext* const context_;
    std::set<std::string>* const put_;
  };

  RelationshipProjector projector_{0, kCheckpointEvents};
  std::set<std::string> put_;
};

// A large dyad's state is rewritten per event only in what the event
// changes: its lists that other kinds leave alone are entries of their
// own, not in the record every event rewrites.
TEST(RelationshipProjectorTest, AnEventRewritesOnlyTheListsItsKindChanges) {
  using namespace ::annals::testing;  // builders
  storage::testing::ScratchDir dir;
  PutRecorder projector;
  storage::LogOptions options;
  options.sync = false;
  options.projector = &projector;
  auto log = storage::OpenRocksEventLog(dir.Sub("log"), options);
  ASSERT_THAT(log.status(), IsOk());
  const std::string dyad = "JPN-PRK";
  // Lists the last group wrote, by key letter.
  auto lists_put = [&]() {
    std::string letters;
    for (const StateList list :
         {StateList::kAgreements, StateList::kPolicies,
          StateList::kRecentStatements, StateList::kSanctions}) {
      if (projector.put().contains(ListPartKey(dyad, list))) {
        letters.push_back(static_cast<char>(list));
      }
    }
    return letters;
  };
  auto append = [&](v1::Event event) {
    NormalizeEvent(&event);
    ASSERT_THAT((*log)->Append(storage::testing::MakeBatch(
                                   "test", storage::ExpectedVersion::Any(),
                                   {std::move(event)}))
                    .status(),
                IsOk());
    EXPECT_TRUE(projector.put().contains(dyad)) << "the record";
  };
  for (const v1::Event& event : MakeRefillCases().originals) append(event);

  // Every list is stored, none in the record.
  absl::StatusOr<std::string> record =
      (*log)->ReadProjection(ProjectionFamily::kRelationships, dyad);
  ASSERT_THAT(record.status(), IsOk());
  absl::StatusOr<v1::RelationshipState> in_record =
      ParseStoredRelationship(*record, dyad);
  ASSERT_THAT(in_record.status(), IsOk());
  EXPECT_EQ(in_record->agreements_size() + in_record->policies_size() +
                in_record->recent_statements_size() +
                in_record->sanctions_size(),
            0);
  absl::StatusOr<std::string> whole = ReadStoredRelationship(**log, dyad);
  ASSERT_THAT(whole.status(), IsOk());
  absl::StatusOr<v1::RelationshipState> state =
      ParseStoredRelationship(*whole, dyad);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(state->agreements_size(), kMaxAgreements);
  EXPECT_EQ(state->policies_size(), 1);
  EXPECT_EQ(state->recent_statements_size(), kRecentStatements);
  EXPECT_EQ(state->sanctions_size(), 3);

  append(Meeting("meet-new", {2020, 2, 3}));
  EXPECT_EQ(lists_put(), "");
  append(Statement("stm-new", {2020, 2, 4}, v1::Statement::STANCE_CRITICAL));
  EXPECT_EQ(lists_put(), "s");
  // An agreement reads the policies (its suspension), and leaves them.
  append(Agreement("agr-new", {2020, 2, 5}, "Accord new"));
  EXPECT_EQ(lists_put(), "a");
  append(Sanction("sanction-new", {2020, 2, 6}, v1::Sanction::ACTION_IMPOSED,
                  {"export ban"}));
  EXPECT_EQ(lists_put(), "x");
  // A policy no kept agreement is titled after suspends none of them.
  append(Policy("policy-new", {2020, 2, 7}, "Fisheries",
                v1::PolicyChange::DIRECTION_HARDENING));
  EXPECT_EQ(lists_put(), "p");
  append(Policy("policy-accord", {2020, 2, 8}, "Accord new",
                v1::PolicyChange::DIRECTION_HARDENING));
  EXPECT_EQ(lists_put(), "ap");
}

}  // namespace
}  // namespace annals::services
