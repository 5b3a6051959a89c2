// The relationship projection: what each kind of event sets, corrections,
// the trailing Goldstein index, dyads (its properties over random events:
// projection_properties_test.cc).
#include "services/model/projection.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annals/v1/relationship.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/builders.h"
#include "tests/testing/events.h"

namespace annals::services {
namespace {

using ::annals::testing::AsLog;
using ::annals::testing::When;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using R = v1::ResolutionAction;

// Folds Apply over `events` in the given order for `dyad`, as the storage
// writer does on append.
v1::RelationshipState ApplyAll(const std::string& dyad,
                               const std::vector<v1::Event>& events) {
  v1::RelationshipState state;
  state.set_dyad(dyad);
  for (const v1::Event& e : events) Apply(e, &state);
  return state;
}

std::vector<std::string> Ids(const v1::RelationshipState& state) {
  std::vector<std::string> ids;
  for (const auto& s : state.recent_statements()) {
    ids.push_back(s.event().event_id());
  }
  return ids;
}

// ---------------------------------------------------------------------------
// DyadsOf

TEST(DyadsOf, SourceTimesTargetSortedCodes) {
  EXPECT_THAT(DyadsOf(testing::MakeMeeting("a", "JPN", "PRK")),
              ElementsAre("JPN-PRK"));
  EXPECT_THAT(DyadsOf(testing::MakeMeeting("a", "PRK", "JPN")),
              ElementsAre("JPN-PRK"));
  EXPECT_THAT(DyadsOf(testing::MakeBase("a", {"USA", "JPN"}, {"PRK", "KOR"},
                                        When{2018})),
              ElementsAre("JPN-KOR", "JPN-PRK", "KOR-USA", "PRK-USA"));
}

TEST(DyadsOf, NoTargetGivesPairsAmongSources) {
  EXPECT_THAT(
      DyadsOf(testing::MakeBase("a", {"USA", "PRK", "KOR"}, {}, When{2018})),
      ElementsAre("KOR-PRK", "KOR-USA", "PRK-USA"));
}

TEST(DyadsOf, ResolutionSponsorsCountAsSources) {
  v1::Event adopted = testing::MakeBase("a", {"UNHRC"}, {"PRK"}, When{2018});
  v1::ResolutionAction* resolution = adopted.mutable_resolution();
  resolution->set_body("UNHRC");
  resolution->set_action(v1::ResolutionAction::ACTION_ADOPTED);
  resolution->add_sponsors("JPN");
  resolution->add_sponsors("EU");
  resolution->add_sponsors("UNHRC");  // already a source: no repeat
  EXPECT_THAT(DyadsOf(adopted), ElementsAre("EU-PRK", "JPN-PRK", "PRK-UNHRC"));
}

TEST(DyadsOf, SingleActorWithoutTargetTouchesNoDyad) {
  EXPECT_THAT(DyadsOf(testing::MakeBase("a", {"PRK"}, {}, When{2018})),
              IsEmpty());
}

// ---------------------------------------------------------------------------
// Per kind

// A session of a body on a country is not a meeting with it.
TEST(Apply, SessionOfABodyIsNotAMeetingWithItsTarget) {
  v1::Event session = testing::Meeting(
      "unsc-2017", When{2017}, v1::Meeting::LEVEL_SENIOR_OFFICIALS, "",
      v1::Meeting::OUTCOME_UNSPECIFIED, {"UNSC"}, {"PRK"});
  session.mutable_meeting()->set_type(v1::Meeting::TYPE_SESSION);
  const v1::RelationshipState state = ApplyAll("PRK-UNSC", {session});
  EXPECT_EQ(state.event_count(), 1);
  EXPECT_FALSE(state.has_last_meeting());
  EXPECT_EQ(state.leaders_meeting_count(), 0);
}

TEST(Apply, MeetingSetsLastMeetingCountsAndLeadersMeetings) {
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK",
      {testing::MakeMeeting("koizumi-2002"),
       testing::Meeting("koizumi-2004", When{2004, 5, 22},
                        v1::Meeting::LEVEL_LEADERS, "Pyongyang",
                        v1::Meeting::OUTCOME_PROGRESS),
       testing::Meeting("stockholm-2014", When{2014, 5, 26},
                        v1::Meeting::LEVEL_SENIOR_OFFICIALS, "Stockholm",
                        v1::Meeting::OUTCOME_AGREEMENT),
       // Planned: has not taken place, so neither last nor counted.
       testing::Meeting("planned-2019", When{2019, 6},
                        v1::Meeting::LEVEL_LEADERS, "Tokyo",
                        v1::Meeting::OUTCOME_PLANNED)});
  EXPECT_EQ(state.event_count(), 4);
  ASSERT_EQ(state.counts_size(), 1);
  EXPECT_EQ(state.counts(0).kind(), "meeting");
  EXPECT_EQ(state.counts(0).count(), 4);
  EXPECT_EQ(state.leaders_meeting_count(), 2);
  EXPECT_EQ(state.last_meeting().event().event_id(), "stockholm-2014");
  EXPECT_EQ(state.last_meeting().place(), "Stockholm");
  EXPECT_EQ(state.last_meeting().level(), v1::Meeting::LEVEL_SENIOR_OFFICIALS);
  EXPECT_EQ(state.last_meeting().outcome(), v1::Meeting::OUTCOME_AGREEMENT);
  EXPECT_EQ(state.first_event().event_id(), "koizumi-2002");
  EXPECT_EQ(state.last_event().event_id(), "planned-2019");
  EXPECT_THAT(state.tags(), ElementsAre("abductions"));
}

TEST(Apply, TagsAreCountedByTheEventsThatCarryThem) {
  v1::Event first = testing::MakeMeeting("first");
  first.clear_tags();
  first.add_tags("nuclear");
  first.add_tags("abductions");
  v1::Event second = testing::MakeMeeting("second");
  second.clear_tags();
  second.add_tags("nuclear");
  const v1::RelationshipState state = ApplyAll("JPN-PRK", {first, second});
  EXPECT_THAT(state.tags(), ElementsAre("abductions", "nuclear"));
  ASSERT_EQ(state.tag_counts_size(), 2);
  EXPECT_EQ(state.tag_counts(0).tag(), "abductions");
  EXPECT_EQ(state.tag_counts(0).count(), 1);
  EXPECT_EQ(state.tag_counts(1).tag(), "nuclear");
  EXPECT_EQ(state.tag_counts(1).count(), 2);
}

TEST(Apply, AgreementRecordsPartiesAndCommitments) {
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK",
      {testing::Agreement("pyd", When{2002, 9, 17}, "Pyongyang Declaration"),
       testing::Agreement("six", When{2005, 9, 19}, "Joint Statement",
                          {"USA", "PRK", "JPN", "KOR", "CHN", "RUS"})});
  ASSERT_EQ(state.agreements_size(), 2);
  const v1::AgreementRecord& pyd = state.agreements(0);
  EXPECT_EQ(pyd.event().event_id(), "pyd");
  EXPECT_EQ(pyd.title(), "Pyongyang Declaration");
  EXPECT_THAT(pyd.parties(), ElementsAre("JPN", "PRK"));  // Source+target.
  EXPECT_THAT(pyd.commitments(),
              ElementsAre("normalise relations", "address the abductions"));
  EXPECT_FALSE(pyd.has_suspended_by());
  EXPECT_THAT(state.agreements(1).parties(),
              ElementsAre("CHN", "JPN", "KOR", "PRK", "RUS", "USA"));
  EXPECT_EQ(state.counts(0).kind(), "agreement");
  EXPECT_EQ(state.counts(0).count(), 2);
}

TEST(Apply, StatementsKeepTheTenMostRecentDescending) {
  std::vector<v1::Event> events;
  for (int i = 1; i <= 12; ++i) {
    events.push_back(testing::Statement(absl::StrCat("s", 100 + i),
                                        When{2018, i, 1},
                                        v1::Statement::STANCE_CRITICAL));
  }
  // A tie on date with s112: the greater id is the more recent.
  events.push_back(testing::Statement("s999", When{2018, 12, 1},
                                      v1::Statement::STANCE_HOSTILE));
  v1::RelationshipState state = ApplyAll("JPN-PRK", events);
  EXPECT_THAT(Ids(state),
              ElementsAre("s999", "s112", "s111", "s110", "s109", "s108",
                          "s107", "s106", "s105", "s104"));
  EXPECT_EQ(state.recent_statements(0).stance(),
            v1::Statement::STANCE_HOSTILE);
  EXPECT_EQ(state.recent_statements(1).speaker(),
            "Foreign Ministry spokesperson");
  EXPECT_EQ(state.recent_statements(1).quote(), "Quote s112");
  EXPECT_THAT(state.recent_statements(1).source(), ElementsAre("PRK"));

  std::reverse(events.begin(), events.end());
  EXPECT_EQ(SerializeState(ApplyAll("JPN-PRK", events)),
            SerializeState(state));
}

TEST(Apply, MilitaryAndHumanitarianAreCountedAndScored) {
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK",
      {testing::Military("icbm", When{2017, 7, 4},
                         v1::MilitaryAction::TYPE_WEAPONS_TEST),
       testing::Humanitarian("return", When{2002, 10, 15},
                             v1::HumanitarianDevelopment::TYPE_RETURN)});
  ASSERT_EQ(state.counts_size(), 2);
  EXPECT_EQ(state.counts(0).kind(), "humanitarian");
  EXPECT_EQ(state.counts(1).kind(), "military");
  ASSERT_EQ(state.goldstein_monthly_size(), 2);
  EXPECT_EQ(state.goldstein_monthly(0).year(), 2002);
  EXPECT_EQ(state.goldstein_monthly(0).month(), 10);
  EXPECT_EQ(state.goldstein_monthly(0).goldstein_sum_tenths(), 70);
  EXPECT_EQ(state.goldstein_monthly(1).goldstein_sum_tenths(), -70);
  EXPECT_EQ(state.last_event().goldstein_tenths(), -70);
}

TEST(Apply, CorrectionIsIgnored) {
  v1::RelationshipState state;
  state.set_dyad("JPN-PRK");
  Apply(testing::Retract("c", "a"), &state);
  EXPECT_EQ(state.event_count(), 0);
  EXPECT_EQ(SerializeState(state), SerializeState(BuildState("JPN-PRK", {})));
}

// ---------------------------------------------------------------------------
// First and last by occurred date, whatever the order

TEST(Apply, FirstAndLastByOccurredIntervalThenId) {
  std::vector<v1::Event> events = {
      testing::Meeting("m-day", When{2018, 3, 1}),
      testing::Meeting("m-month", When{2018, 3}),
      testing::Meeting("m-year", When{2018}),
      testing::Meeting("z-tie", When{2018, 3, 1}),
  };
  std::sort(events.begin(), events.end(),
            [](const v1::Event& a, const v1::Event& b) {
              return a.id() < b.id();
            });
  std::string expected;
  do {
    v1::RelationshipState state = ApplyAll("JPN-PRK", events);
    // By interval: "2018" (first day 01-01) < "2018-03-01" < "2018-03"
    // (the same first day, a later last day); on 2018-03-01 the id
    // decides: "m-day" < "z-tie".
    EXPECT_EQ(state.first_event().event_id(), "m-year");
    EXPECT_EQ(state.last_event().event_id(), "m-month");
    EXPECT_EQ(state.last_meeting().event().event_id(), "m-month");
    if (expected.empty()) expected = SerializeState(state);
    EXPECT_EQ(SerializeState(state), expected);
  } while (std::next_permutation(
      events.begin(), events.end(),
      [](const v1::Event& a, const v1::Event& b) { return a.id() < b.id(); }));
}

// ---------------------------------------------------------------------------
// Sanctions

TEST(Sanctions, InForceFollowsTheLatestActionByDate) {
  using S = v1::Sanction;
  std::vector<v1::Event> events = {
      testing::Sanction("s1", When{2006, 10, 14}, S::ACTION_IMPOSED,
                        {"port entry ban", "import ban"}),
      testing::Sanction("s2", When{2014, 7, 4}, S::ACTION_EASED,
                        {"port entry ban"}),
      testing::Sanction("s3", When{2016, 2, 10}, S::ACTION_EXTENDED,
                        {"port entry ban"}),
      testing::Sanction("s4", When{2016, 2, 10}, S::ACTION_LIFTED,
                        {"import ban"}),
      // Another imposer, outside this dyad's sanctions on PRK: USA is a
      // source too, but the JPN-PRK state records JPN's measures only.
      testing::Sanction("s5", When{2017, 1, 1}, S::ACTION_IMPOSED,
                        {"asset freeze"}, {"JPN", "USA"}),
  };
  std::string expected;
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  do {
    v1::RelationshipState state = ApplyAll("JPN-PRK", events);
    ASSERT_EQ(state.sanctions_size(), 3);
    const v1::SanctionMeasure& freeze = state.sanctions(0);
    EXPECT_EQ(freeze.imposer(), "JPN");
    EXPECT_EQ(freeze.measure(), "asset freeze");
    EXPECT_TRUE(freeze.in_force());
    const v1::SanctionMeasure& import = state.sanctions(1);
    EXPECT_EQ(import.measure(), "import ban");
    EXPECT_EQ(import.target(), "PRK");
    EXPECT_EQ(import.last_action(), S::ACTION_LIFTED);
    EXPECT_FALSE(import.in_force());
    const v1::SanctionMeasure& port = state.sanctions(2);
    EXPECT_EQ(port.measure(), "port entry ban");
    EXPECT_EQ(port.last_action(), S::ACTION_EXTENDED);
    EXPECT_EQ(port.last_event().event_id(), "s3");
    EXPECT_EQ(port.legal_basis(), "Foreign Exchange Act (s3)");
    EXPECT_TRUE(port.in_force());
    if (expected.empty()) expected = SerializeState(state);
    EXPECT_EQ(SerializeState(state), expected);
  } while (std::next_permutation(
      events.begin(), events.end(),
      [](const auto& a, const auto& b) { return a.id() < b.id(); }));
}

TEST(Sanctions, SameDateTieGoesToTheGreaterId) {
  using S = v1::Sanction;
  const v1::Event eased =
      testing::Sanction("b-eased", When{2014, 7}, S::ACTION_EASED, {"ban"});
  const v1::Event imposed =
      testing::Sanction("a-imposed", When{2014, 7}, S::ACTION_IMPOSED, {"ban"});
  for (const auto& order : {std::vector<v1::Event>{eased, imposed},
                            std::vector<v1::Event>{imposed, eased}}) {
    v1::RelationshipState state = ApplyAll("JPN-PRK", order);
    ASSERT_EQ(state.sanctions_size(), 1);
    EXPECT_EQ(state.sanctions(0).last_event().event_id(), "b-eased");
    EXPECT_FALSE(state.sanctions(0).in_force());
  }
}

TEST(Sanctions, EachSideOfTheDyadIsItsOwnImposer) {
  using S = v1::Sanction;
  v1::RelationshipState state = ApplyAll(
      "EU-RUS",
      {testing::Sanction("eu", When{2014, 3}, S::ACTION_IMPOSED, {"visa ban"},
                         {"EU"}, {"RUS"}),
       testing::Sanction("ru", When{2014, 8}, S::ACTION_IMPOSED, {"food ban"},
                         {"RUS"}, {"EU"})});
  ASSERT_EQ(state.sanctions_size(), 2);
  EXPECT_EQ(state.sanctions(0).imposer(), "EU");
  EXPECT_EQ(state.sanctions(0).target(), "RUS");
  EXPECT_EQ(state.sanctions(1).imposer(), "RUS");
  EXPECT_EQ(state.sanctions(1).target(), "EU");
}

// ---------------------------------------------------------------------------
// Agreements suspended by a hardening policy change with the same title

TEST(Agreements, HardeningPolicyWithTheTitleAfterTheAgreementSuspendsIt) {
  using P = v1::PolicyChange;
  const v1::Event agreement =
      testing::Agreement("stockholm", When{2014, 5, 29}, "Stockholm Agreement");
  const v1::Event before = testing::Policy(
      "p-before", When{2014, 1}, "Stockholm Agreement", P::DIRECTION_HARDENING);
  const v1::Event other_title = testing::Policy(
      "p-other", When{2016, 3}, "Stockholm agreement", P::DIRECTION_HARDENING);
  const v1::Event softening = testing::Policy(
      "p-soft", When{2017, 1}, "Stockholm Agreement", P::DIRECTION_SOFTENING);
  const v1::Event suspend = testing::Policy(
      "p-suspend", When{2016, 2, 12}, "Stockholm Agreement",
      P::DIRECTION_HARDENING);

  std::vector<v1::Event> events = {agreement, before, other_title, softening,
                                   suspend};
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  std::string expected;
  do {
    v1::RelationshipState state = ApplyAll("JPN-PRK", events);
    ASSERT_EQ(state.agreements_size(), 1);
    EXPECT_EQ(state.agreements(0).suspended_by().event_id(), "p-suspend");
    ASSERT_EQ(state.policies_size(), 2);
    EXPECT_EQ(state.policies(0).policy(), "Stockholm Agreement");
    EXPECT_EQ(state.policies(0).direction(), P::DIRECTION_SOFTENING);
    EXPECT_EQ(state.policies(0).latest().event_id(), "p-soft");
    if (expected.empty()) expected = SerializeState(state);
    EXPECT_EQ(SerializeState(state), expected);
  } while (std::next_permutation(
      events.begin(), events.end(),
      [](const auto& a, const auto& b) { return a.id() < b.id(); }));

  // A hardening only before the agreement, or under another title, does not
  // suspend it.
  v1::RelationshipState state =
      ApplyAll("JPN-PRK", {before, other_title, agreement});
  EXPECT_FALSE(state.agreements(0).has_suspended_by());
  // Same date as the agreement: not after it.
  state = ApplyAll("JPN-PRK",
                   {agreement, testing::Policy("p-same", When{2014, 5, 29},
                                               "Stockholm Agreement",
                                               P::DIRECTION_HARDENING)});
  EXPECT_FALSE(state.agreements(0).has_suspended_by());
}

// A dyad with more agreements than the state keeps: the most recent
// kMaxAgreements, whatever the order of arrival, and a hardening of an
// agreement that was dropped changes nothing kept.
TEST(Agreements, OnlyTheMostRecentAreKeptInAnyOrder) {
  using P = v1::PolicyChange;
  std::vector<v1::Event> events;
  for (int i = 0; i < kMaxAgreements + 15; ++i) {
    events.push_back(testing::Agreement(absl::StrCat("a", 100 + i),
                                        When{1990 + i, 1 + i % 12},
                                        absl::StrCat("Accord ", i)));
  }
  events.push_back(testing::Policy("p-old", When{2030}, "Accord 3",
                                   P::DIRECTION_HARDENING));
  events.push_back(testing::Policy("p-new", When{2030}, "Accord 30",
                                   P::DIRECTION_HARDENING));
  std::mt19937 rng(7);
  std::string expected;
  for (int round = 0; round < 10; ++round) {
    std::shuffle(events.begin(), events.end(), rng);
    const v1::RelationshipState state = ApplyAll("JPN-PRK", events);
    ASSERT_EQ(state.agreements_size(), kMaxAgreements);
    EXPECT_EQ(state.agreements(0).event().event_id(), "a115");
    EXPECT_EQ(state.agreements(kMaxAgreements - 1).event().event_id(), "a134");
    int suspended = 0;
    for (const auto& a : state.agreements()) suspended += a.has_suspended_by();
    EXPECT_EQ(suspended, 1);  // Accord 30; Accord 3 was dropped
    EXPECT_EQ(state.counts(0).kind(), "agreement");
    EXPECT_EQ(state.counts(0).count(), kMaxAgreements + 15);
    if (expected.empty()) expected = SerializeState(state);
    EXPECT_EQ(SerializeState(state), expected) << "round " << round;
  }
}

// ---------------------------------------------------------------------------
// Resolutions

TEST(Resolutions, RecordPerBodyAndYear) {
  // 2018: Japan and the EU co-table at the UNHRC, adopted without a vote.
  // 2019: Japan declines to table; the EU tables alone; adopted.
  const std::vector<v1::Event> events = {
      testing::Resolution("hrc-2018-tabled", When{2018, 3, 9},
                          R::ACTION_TABLED, {"JPN", "EU"}),
      testing::Resolution("hrc-2018-adopted", When{2018, 3, 23},
                          R::ACTION_ADOPTED, {"UNHRC"}, {"PRK"}, "UNHRC",
                          "A/HRC/RES/37/28"),
      testing::Resolution("hrc-2019-declined", When{2019, 3, 13},
                          R::ACTION_DECLINED_TO_TABLE, {"JPN"}),
      testing::Resolution("hrc-2019-tabled", When{2019, 3, 14},
                          R::ACTION_TABLED, {"EU"}),
      testing::Resolution("hrc-2019-adopted", When{2019, 3, 22},
                          R::ACTION_ADOPTED, {"UNHRC"}, {"PRK"}, "UNHRC",
                          "A/HRC/RES/40/20"),
  };
  std::vector<v1::Event> with_sponsors = events;
  with_sponsors[4].mutable_resolution()->add_sponsors("EU");

  const v1::RelationshipState jpn = BuildState("JPN-PRK", with_sponsors);
  ASSERT_EQ(jpn.resolutions_size(), 2);
  EXPECT_EQ(jpn.resolutions(0).body(), "UNHRC");
  EXPECT_EQ(jpn.resolutions(0).year(), 2018);
  EXPECT_THAT(jpn.resolutions(0).tabled_by(), ElementsAre("EU", "JPN"));
  EXPECT_THAT(jpn.resolutions(0).sponsors(), ElementsAre("EU", "JPN"));
  EXPECT_THAT(jpn.resolutions(0).declined_to_table(), IsEmpty());
  EXPECT_EQ(jpn.resolutions(1).year(), 2019);
  EXPECT_THAT(jpn.resolutions(1).declined_to_table(), ElementsAre("JPN"));
  EXPECT_THAT(jpn.resolutions(1).tabled_by(), IsEmpty());
  // The Council's decision is an UNHRC-PRK event, not a JPN-PRK one.
  EXPECT_EQ(jpn.resolutions(1).decision(), R::ACTION_UNSPECIFIED);

  const v1::RelationshipState eu = BuildState("EU-PRK", with_sponsors);
  ASSERT_EQ(eu.resolutions_size(), 2);
  EXPECT_THAT(eu.resolutions(1).tabled_by(), ElementsAre("EU"));
  EXPECT_THAT(eu.resolutions(1).declined_to_table(), IsEmpty());

  const v1::RelationshipState hrc = BuildState("PRK-UNHRC", with_sponsors);
  ASSERT_EQ(hrc.resolutions_size(), 2);
  EXPECT_EQ(hrc.resolutions(1).decision(), R::ACTION_ADOPTED);
  EXPECT_EQ(hrc.resolutions(1).adoption(), R::ADOPTION_WITHOUT_VOTE);
  EXPECT_FALSE(hrc.resolutions(1).has_votes());
  EXPECT_THAT(hrc.resolutions(1).symbols(), ElementsAre("A/HRC/RES/40/20"));
  EXPECT_THAT(hrc.resolutions(1).sponsors(), ElementsAre("EU"));
  EXPECT_EQ(hrc.resolutions(1).decided_by().event_id(), "hrc-2019-adopted");
}

TEST(Resolutions, OneRecordGathersEveryActionOfTheYearInAnyOrder) {
  // All three as one dyad's events, as when Japan's decision and the EU's
  // tabling are recorded against the same pair (here: both as sources with
  // PRK as target, so the JPN-PRK state sees both).
  std::vector<v1::Event> events = {
      testing::Resolution("a-declined", When{2019, 3, 13},
                          R::ACTION_DECLINED_TO_TABLE, {"JPN"}),
      testing::Resolution("b-tabled", When{2019, 3, 14}, R::ACTION_TABLED,
                          {"EU", "JPN"}),
      testing::Resolution("c-rejected", When{2019, 3, 20},
                          R::ACTION_REJECTED, {"JPN"}, {"PRK"}, "UNHRC",
                          "L.1"),
      testing::Resolution("d-adopted", When{2019, 3, 22}, R::ACTION_ADOPTED,
                          {"JPN"}, {"PRK"}, "UNHRC", "A/HRC/RES/40/20"),
      testing::Resolution("e-unga", When{2019, 12, 18}, R::ACTION_ADOPTED,
                          {"JPN"}, {"PRK"}, "UNGA", "A/RES/74/166"),
  };
  std::string expected;
  do {
    const v1::RelationshipState state = ApplyAll("JPN-PRK", events);
    ASSERT_EQ(state.resolutions_size(), 2);
    EXPECT_EQ(state.resolutions(0).body(), "UNGA");
    const v1::ResolutionRecord& hrc = state.resolutions(1);
    EXPECT_EQ(hrc.body(), "UNHRC");
    EXPECT_EQ(hrc.action_count(), 4);
    EXPECT_THAT(hrc.declined_to_table(), ElementsAre("JPN"));
    EXPECT_THAT(hrc.tabled_by(), ElementsAre("EU", "JPN"));
    EXPECT_THAT(hrc.symbols(), ElementsAre("A/HRC/RES/40/20", "L.1"));
    EXPECT_EQ(hrc.decision(), R::ACTION_ADOPTED);  // The later decision.
    EXPECT_FALSE(hrc.has_votes());                  // Cleared: no vote.
    if (expected.empty()) expected = SerializeState(state);
    EXPECT_EQ(SerializeState(state), expected);
  } while (std::next_permutation(
      events.begin(), events.end(),
      [](const auto& a, const auto& b) { return a.id() < b.id(); }));
}

// ---------------------------------------------------------------------------
// Trailing Goldstein index

TEST(TrailingIndex, TwelveMonthsEndingWithTheGivenMonthInclusive) {
  using S = v1::Statement;
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK",
      {testing::Statement("before", When{2018, 3, 31},
                          S::STANCE_HOSTILE),  // -50, just outside
       testing::Statement("first", When{2018, 4, 1},
                          S::STANCE_SUPPORTIVE),  // +30
       testing::Statement("mid", When{2018, 12}, S::STANCE_CRITICAL),  // -20
       testing::Statement("last", When{2019, 3, 31},
                          S::STANCE_CONCILIATORY),  // +20
       testing::Statement("year-only", When{2019},
                          S::STANCE_HOSTILE),  // no month: in no mean
       testing::Statement("after", When{2019, 4, 1}, S::STANCE_HOSTILE)});
  GoldsteinWindow w = TrailingIndex(state, YearMonth{2019, 3});
  EXPECT_EQ(w.event_count, 3);
  EXPECT_EQ(w.sum_tenths, 30);
  EXPECT_EQ(w.mean_tenths, 10);

  // Ending 2019-02 (2018-03 ... 2019-02): "last" leaves, "before" enters.
  w = TrailingIndex(state, YearMonth{2019, 2});
  EXPECT_EQ(w.event_count, 3);
  EXPECT_EQ(w.sum_tenths, -40);
  EXPECT_EQ(w.mean_tenths, -13);  // -13.33 rounds to -13.

  // Ending 2018-04 crosses the year boundary back to 2017-05.
  w = TrailingIndex(state, YearMonth{2018, 4});
  EXPECT_EQ(w.event_count, 2);
  EXPECT_EQ(w.sum_tenths, -20);
  EXPECT_EQ(w.mean_tenths, -10);

  // Ending 2018-02: "before" (2018-03) is just after the window.
  w = TrailingIndex(state, YearMonth{2018, 2});
  EXPECT_EQ(w.event_count, 0);
  EXPECT_EQ(w.mean_tenths, 0);

  w = TrailingIndex(state, YearMonth{2017, 12});
  EXPECT_EQ(w.event_count, 0);
  EXPECT_EQ(w.mean_tenths, 0);

  // "year-only" may have happened as late as 2019-12: the current window
  // is 2019-01 ... 2019-12, with "year-only" counted apart.
  ASSERT_TRUE(LatestMonth(state).has_value());
  EXPECT_EQ(*LatestMonth(state), (YearMonth{2019, 12}));
  w = CurrentIndex(state);
  EXPECT_EQ(w.event_count, 2);
  EXPECT_EQ(w.sum_tenths, -30);
  EXPECT_EQ(w.mean_tenths, -15);
  EXPECT_EQ(w.unplaced_count, 1);
}

TEST(TrailingIndex, MeanRoundsHalvesAwayFromZero) {
  using S = v1::Statement;
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK", {testing::Statement("a", When{2019, 1, 1}, S::STANCE_HOSTILE),
                  testing::Statement("b", When{2019, 1, 2}, S::STANCE_NEUTRAL),
                  testing::Statement("c", When{2019, 1, 3}, S::STANCE_NEUTRAL),
                  testing::Statement("d", When{2019, 1, 4},
                                     S::STANCE_CONCILIATORY)});
  // (-50 + 0 + 0 + 20) / 4 = -7.5 -> -8.
  EXPECT_EQ(TrailingIndex(state, YearMonth{2019, 1}).mean_tenths, -8);
}

TEST(TrailingIndex, EventsNotInOneMonthAreCountedApartFromTheMean) {
  using S = v1::Statement;
  const v1::Event range = testing::Until(
      testing::Statement("range", When{2018, 5, 30}, S::STANCE_HOSTILE),
      When{2018, 6, 2});
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK",
      {testing::Meeting("m", When{2018}), range,
       testing::Statement("may", When{2018, 5}, S::STANCE_CONCILIATORY),
       testing::Statement("old", When{2016}, S::STANCE_HOSTILE)});
  // "2018" and the range over two months are in 2018's month-0 bucket;
  // "2018-05" lies in May.
  ASSERT_EQ(state.goldstein_monthly_size(), 3);
  EXPECT_EQ(state.goldstein_monthly(1).year(), 2018);
  EXPECT_EQ(state.goldstein_monthly(1).month(), 0);
  EXPECT_EQ(state.goldstein_monthly(1).event_count(), 2);
  EXPECT_EQ(state.goldstein_monthly(2).month(), 5);
  // "2018" may have happened in December: the current window ends there.
  ASSERT_TRUE(LatestMonth(state).has_value());
  EXPECT_EQ(*LatestMonth(state), (YearMonth{2018, 12}));
  GoldsteinWindow w = CurrentIndex(state);
  EXPECT_EQ(w.event_count, 1);
  EXPECT_EQ(w.mean_tenths, 20);
  EXPECT_EQ(w.unplaced_count, 2);
  // A window over 2017-07 ... 2018-06 touches both years' buckets; one
  // over 2016 only 2016's.
  EXPECT_EQ(TrailingIndex(state, YearMonth{2018, 6}).unplaced_count, 2);
  EXPECT_EQ(TrailingIndex(state, YearMonth{2016, 12}).unplaced_count, 1);
  EXPECT_EQ(TrailingIndex(state, YearMonth{2017, 12}).unplaced_count, 0);
  const v1::GoldsteinIndex index = CurrentIndexOf(state);
  EXPECT_EQ(index.end_month(), 12);
  EXPECT_EQ(index.unplaced_count(), 2);
}

TEST(TrailingIndex, OnlyYearOnlyEventsEndTheWindowInTheirDecember) {
  v1::RelationshipState state = ApplyAll(
      "JPN-PRK", {testing::Meeting("m", When{2018})});
  ASSERT_TRUE(LatestMonth(state).has_value());
  EXPECT_EQ(*LatestMonth(state), (YearMonth{2018, 12}));
  EXPECT_EQ(CurrentIndex(state).event_count, 0);
  EXPECT_EQ(CurrentIndex(state).unplaced_count, 1);
  ASSERT_EQ(state.goldstein_monthly_size(), 1);
  EXPECT_EQ(state.goldstein_monthly(0).month(), 0);
}

// ---------------------------------------------------------------------------
// Corrections

const char kDyad[] = "JPN-PRK";

std::string StateOfLog(const std::vector<v1::Event>& log,
                       const std::string& dyad = kDyad) {
  return SerializeState(BuildState(dyad, EffectiveEvents(AsLog(log))));
}

TEST(Corrections, AmendGivesTheStateOfTheCorrectedOriginal) {
  const v1::Event a = testing::Meeting("a", When{2002, 9, 17});
  const v1::Event b = testing::Statement("b", When{2003, 1, 10},
                                         v1::Statement::STANCE_CRITICAL);
  v1::Event a_fixed = testing::Meeting("a", When{2004, 5, 22},
                                       v1::Meeting::LEVEL_LEADERS, "Tokyo",
                                       v1::Meeting::OUTCOME_PROGRESS);
  a_fixed.add_tags("normalization");
  v1::Event amended = a_fixed;
  amended.clear_id();  // An amended event may leave its id empty.

  const std::string corrected = StateOfLog({a, b, testing::Amend("c", "a", amended)});
  EXPECT_EQ(corrected, StateOfLog({a_fixed, b}));
  EXPECT_NE(corrected, StateOfLog({a, b}));
  // Whatever the positions of the original and the other events.
  EXPECT_EQ(StateOfLog({b, a, testing::Amend("c", "a", a_fixed)}),
            StateOfLog({a_fixed, b}));
}

TEST(Corrections, RetractGivesTheStateWithoutTheEvent) {
  const v1::Event a = testing::Meeting("a", When{2002, 9, 17});
  const v1::Event b = testing::Sanction("b", When{2006, 10, 14},
                                        v1::Sanction::ACTION_IMPOSED, {"ban"});
  EXPECT_EQ(StateOfLog({a, b, testing::Retract("c", "b")}), StateOfLog({a}));
  EXPECT_EQ(StateOfLog({a, testing::Retract("c", "a")}), StateOfLog({}));
}

TEST(Corrections, TheLastCorrectionByPositionWins) {
  const v1::Event a = testing::Meeting("a", When{2002, 9, 17});
  const v1::Event a1 = testing::Meeting("a", When{2002, 9, 18},
                                        v1::Meeting::LEVEL_MINISTERS);
  const v1::Event a2 = testing::Meeting("a", When{2002, 9, 19},
                                        v1::Meeting::LEVEL_WORKING, "Beijing");
  EXPECT_EQ(StateOfLog({a, testing::Amend("c1", "a", a1),
                        testing::Amend("c2", "a", a2)}),
            StateOfLog({a2}));
  EXPECT_EQ(StateOfLog({a, testing::Amend("c2", "a", a2),
                        testing::Amend("c1", "a", a1)}),
            StateOfLog({a1}));
  // An amend after a retraction restores the event as amended; a
  // retraction after an amend drops it.
  EXPECT_EQ(StateOfLog({a, testing::Retract("c1", "a"),
                        testing::Amend("c2", "a", a2)}),
            StateOfLog({a2}));
  EXPECT_EQ(StateOfLog({a, testing::Amend("c1", "a", a1),
                        testing::Retract("c2", "a")}),
            StateOfLog({}));
}

TEST(Corrections, AmendingTheActorsMovesTheEventToAnotherDyad) {
  const v1::Event a = testing::MakeMeeting("a", "JPN", "PRK");
  const v1::Event b = testing::MakeMeeting("b", "JPN", "PRK");
  const v1::Event a_usa = testing::MakeMeeting("a", "USA", "PRK");
  const std::vector<v1::Event> log = {a, b, testing::Amend("c", "a", a_usa)};
  EXPECT_EQ(StateOfLog(log, "JPN-PRK"), StateOfLog({b}, "JPN-PRK"));
  EXPECT_EQ(StateOfLog(log, "PRK-USA"), StateOfLog({a_usa}, "PRK-USA"));
  EXPECT_EQ(BuildState("PRK-USA", EffectiveEvents(AsLog(log))).event_count(),
            1);
}

TEST(Corrections, UnknownTargetsAreIgnoredAndCorrectionsLeaveTheOutput) {
  const v1::Event a = testing::Meeting("a", When{2002, 9, 17});
  const std::vector<v1::Event> effective = EffectiveEvents(
      AsLog({testing::Retract("c", "nope"), a, testing::Retract("d", "c")}));
  ASSERT_EQ(effective.size(), 1u);
  EXPECT_EQ(effective[0].id(), "a");
}

TEST(EffectiveEvents, CanonicalOrderByOccurredThenId) {
  const std::vector<v1::Event> effective = EffectiveEvents(
      AsLog({testing::Meeting("d", When{2018, 3, 1}),
             testing::Meeting("c", When{2018, 3}),
             testing::Meeting("b", When{2018, 3, 1}),
             testing::Meeting("a", When{2019})}));
  std::vector<std::string> ids;
  for (const auto& e : effective) ids.push_back(e.id());
  // 2018-03-01 ("b", "d" by id), then 2018-03 (the same first day, a
  // later last day), then 2019.
  EXPECT_THAT(ids, ElementsAre("b", "d", "c", "a"));
}

}  // namespace
}  // namespace annals::services
