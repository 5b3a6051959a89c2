// The text the CLI prints for relationship states, listings, timeline
// entries and rebuild reports: the content that matters, not the spacing.
#include "clients/cli/relationship_format.h"

#include <string>

#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace annals {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

// The line of `text` that contains `needle` ("" when none does).
std::string LineWith(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = text.rfind('\n', at);
  const size_t end = text.find('\n', at);
  const size_t from = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(from,
                     end == std::string::npos ? std::string::npos : end - from);
}

// A JPN-PRK state as the seed timeline gives it, cut down by hand.
v1::RelationshipState JpnPrk() {
  return Parse<v1::RelationshipState>(R"pb(
    dyad: "JPN-PRK"
    event_count: 5
    counts { kind: "meeting" count: 2 }
    counts { kind: "resolution" count: 2 }
    counts { kind: "statement" count: 1 }
    first_event {
      event_id: "prk-jpn-1978-chimura-abduction"
      kind: "military"
      occurred {
        start { year: 1978 }
        precision: DATE_PRECISION_YEAR
      }
      summary: "Yasushi Chimura and Fukie Hamamoto were abducted."
      goldstein_tenths: -95
    }
    last_event {
      event_id: "jpn-prk-2019-04-26-abe-intent-to-meet-kim"
      kind: "statement"
      occurred {
        start { year: 2019 month: 4 day: 26 }
        precision: DATE_PRECISION_DAY
      }
      summary: "Abe said he wants to meet Kim Jong Un without preconditions."
      goldstein_tenths: 34
    }
    last_meeting {
      event {
        event_id: "jpn-prk-2014-05-26-stockholm-talks"
        kind: "meeting"
        occurred {
          start { year: 2014 month: 5 day: 26 }
          end { year: 2014 month: 5 day: 28 }
          precision: DATE_PRECISION_DAY
        }
      }
      type: TYPE_TALKS
      level: LEVEL_SENIOR_OFFICIALS
      format: FORMAT_THIRD_PLACE
      place: "Stockholm"
      outcome: OUTCOME_AGREEMENT
      participants: "Junichi Ihara"
      participants: "Song Il Ho"
    }
    leaders_meeting_count: 2
    agreements {
      event {
        event_id: "jpn-prk-2014-05-stockholm-agreement"
        kind: "agreement"
        occurred {
          start { year: 2014 month: 5 }
          precision: DATE_PRECISION_MONTH
        }
      }
      title: "Stockholm Agreement"
      parties: "JPN"
      parties: "PRK"
      suspended_by {
        event_id: "jpn-prk-2016-02-sanctions-reimposed"
        kind: "policy_change"
        occurred {
          start { year: 2016 month: 2 }
          precision: DATE_PRECISION_MONTH
        }
      }
    }
    resolutions {
      body: "UNHRC"
      year: 2018
      decision: ACTION_ADOPTED
      adoption: ADOPTION_WITHOUT_VOTE
      sponsors: "EU"
      sponsors: "JPN"
      tabled_by: "EU"
      tabled_by: "JPN"
      action_count: 2
    }
    resolutions {
      body: "UNHRC"
      year: 2019
      declined_to_table: "JPN"
      action_count: 1
    }
    resolutions {
      body: "UNGA"
      year: 2014
      symbols: "A/RES/69/188"
      decision: ACTION_ADOPTED
      adoption: ADOPTION_RECORDED_VOTE
      votes { yes: 116 no: 20 abstain: 53 }
      co_sponsored_by: "USA"
      sponsors: "USA"
      sponsors: "AUS"
      action_count: 3
    }
    sanctions {
      imposer: "JPN"
      target: "PRK"
      measure: "port entry ban"
      last_action: ACTION_EXTENDED
      last_event {
        event_id: "jpn-prk-2017-port-ban"
        occurred { start { year: 2017 month: 4 } }
      }
      legal_basis: "Act on Special Measures"
      in_force: true
    }
    sanctions {
      imposer: "JPN"
      target: "PRK"
      measure: "travel ban"
      last_action: ACTION_LIFTED
      last_event {
        event_id: "jpn-prk-2014-07-travel"
        occurred { start { year: 2014 month: 7 } }
      }
    }
    recent_statements {
      event {
        event_id: "prk-jpn-2019-04-18-kcna-criticizes-kono"
        occurred { start { year: 2019 month: 4 day: 18 } }
        summary: "KCNA criticised Foreign Minister Kono."
      }
      source: "PRK"
      speaker: "KCNA commentary"
      channel: "KCNA"
      stance: STANCE_HOSTILE
      quote: "a political swindler"
    }
    recent_statements {
      event {
        event_id: "jpn-prk-2019-03-13-suga"
        occurred { start { year: 2019 month: 3 day: 13 } }
        summary: "Suga announced that Japan would not table the resolution."
      }
      source: "JPN"
      speaker: "Yoshihide Suga"
      stance: STANCE_CONCILIATORY
    }
    tags: "abductions"
    tags: "human-rights"
    goldstein_monthly {
      year: 2018
      month: 0
      event_count: 1
      goldstein_sum_tenths: 30
    }
    goldstein_monthly {
      year: 2018
      month: 11
      event_count: 1
      goldstein_sum_tenths: -60
    }
    goldstein_monthly {
      year: 2019
      month: 3
      event_count: 2
      goldstein_sum_tenths: 5
    }
    goldstein_monthly {
      year: 2019
      month: 4
      event_count: 2
      goldstein_sum_tenths: -25
    }
  )pb");
}

v1::GoldsteinIndex Index(int year, int month, int count, int mean) {
  v1::GoldsteinIndex index;
  index.set_end_year(year);
  index.set_end_month(month);
  index.set_event_count(count);
  index.set_mean_tenths(mean);
  index.set_sum_tenths(mean * count);
  return index;
}

TEST(FormatTenthsTest, SignedWithOneDecimal) {
  EXPECT_EQ(FormatTenths(23), "+2.3");
  EXPECT_EQ(FormatTenths(-60), "-6.0");
  EXPECT_EQ(FormatTenths(-5), "-0.5");
  EXPECT_EQ(FormatTenths(0), "0.0");
  EXPECT_EQ(FormatTenths(100), "+10.0");
}

TEST(FormatIndexTest, NamesTheTwelveMonthWindowAndCount) {
  EXPECT_EQ(FormatIndex(Index(2019, 3, 12, 23)),
            "+2.3 over 2018-04..2019-03 (12 events)");
  EXPECT_EQ(FormatIndex(Index(2019, 12, 1, -40)),
            "-4.0 over 2019-01..2019-12 (1 event)");
  EXPECT_THAT(FormatIndex(v1::GoldsteinIndex()), HasSubstr("none"));
  v1::GoldsteinIndex unplaced = Index(2018, 12, 0, 0);
  unplaced.set_unplaced_count(2);
  EXPECT_EQ(FormatIndex(unplaced),
            "0.0 over 2018-01..2018-12 (0 events; 2 events of its years not "
            "dated to one month, left out)");
}

TEST(FormatRelationshipTest, HeaderHasDyadCountAndCountsByKind) {
  const std::string text = FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5));
  EXPECT_THAT(LineWith(text, "JPN-PRK"),
              AllOf(HasSubstr("5 events"), HasSubstr("meeting 2"),
                    HasSubstr("resolution 2"), HasSubstr("statement 1")));
}

TEST(FormatRelationshipTest, FirstAndLastEventsAtTheirPrecision) {
  const std::string text = FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5));
  EXPECT_THAT(LineWith(text, "first event"),
              AllOf(HasSubstr("1978 "), HasSubstr("military"),
                    HasSubstr("prk-jpn-1978-chimura-abduction"),
                    HasSubstr("-9.5"), Not(HasSubstr(" 1978-"))));
  EXPECT_THAT(LineWith(text, "last event"),
              AllOf(HasSubstr("2019-04-26"), HasSubstr("+3.4")));
}

TEST(FormatRelationshipTest, LastMeetingWithRangePlaceLevelAndParticipants) {
  const std::string line = LineWith(
      FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5)), "last meeting");
  EXPECT_THAT(line, AllOf(HasSubstr("2014-05-26..2014-05-28"),
                          HasSubstr("Stockholm"), HasSubstr("senior officials"),
                          HasSubstr("third place"), HasSubstr("agreement"),
                          HasSubstr("Junichi Ihara, Song Il Ho")));
  EXPECT_THAT(FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5)),
              HasSubstr("leaders' meetings: 2"));
}

TEST(FormatRelationshipTest, AgreementShowsWhatSuspendedIt) {
  const std::string line =
      LineWith(FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5)),
               "Stockholm Agreement");
  EXPECT_THAT(line, AllOf(HasSubstr("2014-05"), HasSubstr("JPN, PRK"),
                          HasSubstr("suspended by"),
                          HasSubstr("jpn-prk-2016-02-sanctions-reimposed"),
                          HasSubstr("2016-02")));
}

TEST(FormatRelationshipTest, ResolutionRecordPerBodyAndYear) {
  const std::string text = FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5));
  EXPECT_THAT(
      LineWith(text, "UNHRC 2018"),
      AllOf(HasSubstr("adopted without a vote"), HasSubstr("tabled by EU, JPN"),
            Not(HasSubstr("declined"))));
  EXPECT_THAT(
      LineWith(text, "UNHRC 2019"),
      AllOf(HasSubstr("no decision recorded"),
            HasSubstr("declined to table: JPN"), Not(HasSubstr("tabled by"))));
  EXPECT_THAT(LineWith(text, "UNGA 2014"),
              AllOf(HasSubstr("recorded vote 116 yes, 20 no, 53 abstaining"),
                    HasSubstr("co-sponsored by USA"),
                    // AUS is a sponsor named only in `sponsors`.
                    HasSubstr("sponsors AUS"), HasSubstr("A/RES/69/188"),
                    HasSubstr("3 actions")));
}

TEST(FormatRelationshipTest, SanctionsInForceApartFromLiftedOnes) {
  const std::string text = FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5));
  const size_t in_force = text.find("sanctions in force");
  const size_t lifted = text.find("sanctions eased or lifted");
  ASSERT_NE(in_force, std::string::npos);
  ASSERT_NE(lifted, std::string::npos);
  const size_t port = text.find("port entry ban");
  const size_t travel = text.find("travel ban");
  EXPECT_TRUE(in_force < port && port < lifted && lifted < travel) << text;
  EXPECT_THAT(LineWith(text, "port entry ban"),
              AllOf(HasSubstr("JPN → PRK"), HasSubstr("extended 2017-04"),
                    HasSubstr("Act on Special Measures")));
  EXPECT_THAT(LineWith(text, "travel ban"), HasSubstr("lifted 2014-07"));
}

TEST(FormatRelationshipTest, StatementsWithSpeakerStanceAndQuoteOrSummary) {
  const std::string text = FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5));
  EXPECT_THAT(
      LineWith(text, "KCNA commentary"),
      AllOf(HasSubstr("2019-04-18"), HasSubstr("PRK"), HasSubstr("hostile"),
            HasSubstr("\"a political swindler\"")));
  // No quote: the summary stands in.
  EXPECT_THAT(LineWith(text, "Yoshihide Suga"),
              AllOf(HasSubstr("conciliatory"),
                    HasSubstr("would not table the resolution")));
}

TEST(FormatRelationshipTest, TagsIndexAndRecentMonths) {
  const std::string text =
      FormatRelationship(JpnPrk(), Index(2019, 4, 4, -5), /*months=*/3);
  EXPECT_THAT(LineWith(text, "tags"), HasSubstr("abductions, human-rights"));
  v1::RelationshipState counted = JpnPrk();
  v1::TagCount* abductions = counted.add_tag_counts();
  abductions->set_tag("abductions");
  abductions->set_count(3);
  v1::TagCount* rights = counted.add_tag_counts();
  rights->set_tag("human-rights");
  rights->set_count(1);
  EXPECT_THAT(LineWith(FormatRelationship(counted, Index(2019, 4, 4, -5), 3),
                       "tags"),
              HasSubstr("abductions (3), human-rights (1)"));
  EXPECT_THAT(LineWith(text, "index"),
              HasSubstr("-0.5 over 2018-05..2019-04 (4 events)"));
  const std::string monthly = LineWith(text, "monthly");
  // The last three entries, with their mean (half away from zero).
  EXPECT_THAT(
      monthly,
      AllOf(HasSubstr("2018-11 -6.0 (1)"), HasSubstr("2019-03 +0.3 (2)"),
            HasSubstr("2019-04 -1.3 (2)"), Not(HasSubstr("2018 +3.0"))));
}

TEST(FormatRelationshipTest, DyadWithoutEventsIsOneLine) {
  v1::RelationshipState state;
  state.set_dyad("JPN-USA");
  EXPECT_EQ(FormatRelationship(state, v1::GoldsteinIndex()),
            "JPN-USA: no events");
}

TEST(FormatRelationshipTest, LongSummariesAreCutOnACharacterBoundary) {
  v1::RelationshipState state = JpnPrk();
  // An odd byte offset puts every "é" (two bytes) across the cut point.
  std::string summary = "x";
  for (int i = 0; i < 100; ++i) summary += "é";
  state.mutable_first_event()->set_summary(summary);
  const std::string line =
      LineWith(FormatRelationship(state, v1::GoldsteinIndex()), "first event");
  EXPECT_THAT(line, HasSubstr("éé..."));
  EXPECT_LT(line.size(), summary.size());
  // Every "é" is whole: no lone lead or continuation byte before "...".
  const std::string cut = line.substr(0, line.find("..."));
  EXPECT_EQ(cut.substr(cut.size() - 2), "é");
}

TEST(FormatRelationshipSummaryTest, OneLineWithSpanIndexAndLastMeeting) {
  const v1::RelationshipSummary summary = Parse<v1::RelationshipSummary>(R"pb(
    dyad: "PRK-USA"
    event_count: 6
    first_event { occurred { start { year: 2002 month: 9 } } }
    last_event { occurred { start { year: 2019 month: 2 } } }
    last_meeting {
      event { occurred { start { year: 2019 month: 2 } } }
      level: LEVEL_LEADERS
      place: "Hanoi"
    }
    index { end_year: 2019 end_month: 2 event_count: 3 mean_tenths: 12 }
  )pb");
  const std::string line = FormatRelationshipSummary(summary);
  EXPECT_THAT(line, AllOf(HasSubstr("PRK-USA"), HasSubstr("6 events"),
                          HasSubstr("2002-09..2019-02"),
                          HasSubstr("+1.2 over 2018-03..2019-02"),
                          HasSubstr("last meeting 2019-02 Hanoi (leaders)")));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(FormatTimelineEntryTest, LikeAnEventLineWithScoreAndAmendment) {
  v1::TimelineEntry entry = Parse<v1::TimelineEntry>(R"pb(
    event {
      id: "jpn-prk-2002-09-koizumi-visits-pyongyang"
      meeting { type: TYPE_SUMMIT level: LEVEL_LEADERS }
      source: "JPN"
      target: "PRK"
      occurred { start { year: 2002 month: 9 } }
      summary: "Koizumi visited Pyongyang."
    }
    position: 4
    stream: "JPN-PRK"
    goldstein_tenths: 40
  )pb");
  EXPECT_EQ(FormatTimelineEntry(entry),
            "#4 JPN-PRK 2002-09 meeting JPN>PRK "
            "jpn-prk-2002-09-koizumi-visits-pyongyang (+4.0): Koizumi visited "
            "Pyongyang.");
  entry.set_amended_at(90);
  EXPECT_THAT(FormatTimelineEntry(entry), HasSubstr("[amended at 90]"));
  entry.set_overlapping(true);
  EXPECT_THAT(FormatTimelineEntry(entry), ::testing::StartsWith("~#4 "));
}

TEST(FormatRebuildReportTest, MatchedOrTheDifferences) {
  v1::RebuildProjectionsResponse report;
  report.set_events(87);
  report.set_keys(300);
  report.set_matched(true);
  EXPECT_THAT(FormatRebuildReport(report),
              AllOf(HasSubstr("87 events"), HasSubstr("matched")));
  report.set_matched(false);
  report.set_different(2);
  report.set_first_difference(
      "relationships \"JPN-PRK\" (stored with another value)");
  EXPECT_THAT(FormatRebuildReport(report),
              AllOf(HasSubstr("differed"), HasSubstr("2 different"),
                    HasSubstr("JPN-PRK"), HasSubstr("not repaired")));
  report.set_repaired(true);
  EXPECT_THAT(FormatRebuildReport(report), HasSubstr(", repaired"));
}

}  // namespace
}  // namespace annals
