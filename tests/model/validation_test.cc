// Tests of event validation (services/model/validation.h): every rule,
// its field path and description, dates and corrections.
#include "services/model/validation.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "tests/model/validation_events.h"

namespace annals::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// ---------------------------------------------------------------------------
// A valid event of every kind passes

TEST(ValidateEventTest, ValidEventOfEveryKindPasses) {
  for (absl::string_view kind :
       {kMeeting, kAgreement, kResolution, kStatement, kSanction, kMilitary,
        kHumanitarian, kPolicyChange, kRetraction}) {
    EXPECT_THAT(Paths(MakeEvent(kind)), IsEmpty()) << kind;
  }
  EXPECT_THAT(Paths(MakeEvent(Amendment())), IsEmpty());
}

TEST(ValidateEventTest, MinimalEventPasses) {
  const v1::Event event = ParseEvent(R"pb(
    id: "x"
    military { type: TYPE_EXERCISE }
    source: "PRK"
    occurred { start { year: 2017 } }
    summary: "An exercise."
    sources { publisher: "KCNA" title: "Exercise held" }
  )pb");
  EXPECT_THAT(Paths(event), IsEmpty());
}

TEST(ValidateEventTest, SessionIsOfABodyNotOfACountry) {
  const std::string session = R"pb(
    id: "s"
    meeting { type: TYPE_SESSION level: LEVEL_SENIOR_OFFICIALS }
    source: "%s"
    target: "PRK"
    occurred { start { year: 2014 month: 12 } }
    summary: "The Council discussed the situation in the DPRK."
    sources { publisher: "MOFA" title: "Efforts" }
  )pb";
  EXPECT_THAT(Paths(ParseEvent(absl::StrReplaceAll(session, {{"%s", "UNSC"}}))),
              IsEmpty());
  std::vector<rpc::FieldViolation> violations;
  ValidateEvent(ParseEvent(absl::StrReplaceAll(session, {{"%s", "JPN"}})),
                "events[0]", &violations);
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "events[0].source[0]");
  EXPECT_THAT(violations[0].description, HasSubstr("organisation codes"));
}

TEST(ValidateEventTest, EmptyPathNamesFieldsWithoutPrefix) {
  v1::Event event = MakeEvent();
  event.clear_summary();
  std::vector<rpc::FieldViolation> violations;
  ValidateEvent(event, "", &violations);
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "summary");
}

TEST(ValidateEventTest, EmptyEventReportsEveryRequiredField) {
  EXPECT_THAT(Paths(v1::Event()),
              ElementsAre("events[0].id", "events[0].what", "events[0].source",
                          "events[0].occurred", "events[0].summary",
                          "events[0].sources"));
}

// ---------------------------------------------------------------------------
// One rule broken at a time: exactly that field is reported.

struct RuleCase {
  std::string name;
  absl::string_view kind;
  std::function<void(v1::Event&)> mutate;
  std::string path;
};

class BrokenRuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(BrokenRuleTest, ReportsExactlyThatField) {
  const RuleCase& c = GetParam();
  v1::Event event = MakeEvent(c.kind);
  c.mutate(event);
  const rpc::FieldViolation v = OnlyViolation(event);
  EXPECT_EQ(v.field, c.path) << v.description;
  EXPECT_FALSE(v.description.empty());
}

template <typename Enum>
Enum Unknown() {
  return static_cast<Enum>(99);
}

const RuleCase kRuleCases[] = {
    // id
    {"IdMissing", kMeeting, [](v1::Event& e) { e.clear_id(); },
     "events[0].id"},
    {"IdBadCharacter", kMeeting, [](v1::Event& e) { e.set_id("a b"); },
     "events[0].id"},
    {"IdSlash", kMeeting, [](v1::Event& e) { e.set_id("a/b"); },
     "events[0].id"},
    {"IdTooLong", kMeeting,
     [](v1::Event& e) { e.set_id(std::string(129, 'a')); }, "events[0].id"},
    // what
    {"WhatNotSet", kMeeting, [](v1::Event& e) { e.clear_what(); },
     "events[0].what"},
    // source
    {"SourceEmpty", kMeeting, [](v1::Event& e) { e.clear_source(); },
     "events[0].source"},
    {"SourceUnknown", kMeeting,
     [](v1::Event& e) { e.add_source("JPX"); }, "events[0].source[1]"},
    {"SourceLowerCase", kMeeting, [](v1::Event& e) { e.set_source(0, "jpn"); },
     "events[0].source[0]"},
    {"SourceEmptyCode", kMeeting, [](v1::Event& e) { e.set_source(0, ""); },
     "events[0].source[0]"},
    {"SourceRepeated", kMeeting,
     [](v1::Event& e) {
       e.add_source("USA");
       e.add_source("JPN");
     },
     "events[0].source[2]"},
    // target
    {"TargetUnknown", kMeeting, [](v1::Event& e) { e.set_target(0, "NKR"); },
     "events[0].target[0]"},
    {"TargetRepeated", kMeeting, [](v1::Event& e) { e.add_target("PRK"); },
     "events[0].target[1]"},
    {"TargetAlsoSource", kMeeting, [](v1::Event& e) { e.add_target("JPN"); },
     "events[0].target[1]"},
    // occurred
    {"OccurredMissing", kMeeting, [](v1::Event& e) { e.clear_occurred(); },
     "events[0].occurred"},
    {"OccurredStartMissing", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->clear_start(); },
     "events[0].occurred.start"},
    {"YearZero", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->mutable_start()->set_year(0); },
     "events[0].occurred.start.year"},
    {"YearTooLarge", kMeeting,
     [](v1::Event& e) {
       e.mutable_occurred()->mutable_start()->set_year(10000);
     },
     "events[0].occurred.start.year"},
    {"MonthThirteen", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->mutable_start()->set_month(13); },
     "events[0].occurred.start.month"},
    {"MonthNegative", kMeeting,
     [](v1::Event& e) {
       auto* start = e.mutable_occurred()->mutable_start();
       start->set_month(-1);
       start->set_day(0);
     },
     "events[0].occurred.start.month"},
    {"DayWithoutMonth", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->mutable_start()->set_month(0); },
     "events[0].occurred.start.day"},
    {"DayPastEndOfMonth", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->mutable_start()->set_day(31); },
     "events[0].occurred.start.day"},
    {"DayNegative", kMeeting,
     [](v1::Event& e) { e.mutable_occurred()->mutable_start()->set_day(-1); },
     "events[0].occurred.start.day"},
    {"PrecisionDisagrees", kMeeting,
     [](v1::Event& e) {
       e.mutable_occurred()->set_precision(v1::DATE_PRECISION_MONTH);
     },
     "events[0].occurred.precision"},
    {"PrecisionUnknown", kMeeting,
     [](v1::Event& e) {
       e.mutable_occurred()->set_precision(Unknown<v1::DatePrecision>());
     },
     "events[0].occurred.precision"},
    {"EndInvalidDate", kMeeting,
     [](v1::Event& e) {
       auto* end = e.mutable_occurred()->mutable_end();
       end->set_year(2002);
       end->set_month(9);
       end->set_day(31);
     },
     "events[0].occurred.end.day"},
    {"EndOtherPrecision", kMeeting,
     [](v1::Event& e) {
       auto* end = e.mutable_occurred()->mutable_end();
       end->set_year(2002);
       end->set_month(10);
     },
     "events[0].occurred.end"},
    {"EndBeforeStart", kMeeting,
     [](v1::Event& e) {
       auto* end = e.mutable_occurred()->mutable_end();
       end->set_year(2002);
       end->set_month(9);
       end->set_day(16);
     },
     "events[0].occurred.end"},
    // cameo_code
    {"CameoOneDigit", kMeeting, [](v1::Event& e) { e.set_cameo_code("4"); },
     "events[0].cameo_code"},
    {"CameoFiveDigits", kMeeting,
     [](v1::Event& e) { e.set_cameo_code("04211"); }, "events[0].cameo_code"},
    {"CameoNotDigits", kMeeting, [](v1::Event& e) { e.set_cameo_code("04a"); },
     "events[0].cameo_code"},
    // summary
    {"SummaryMissing", kMeeting, [](v1::Event& e) { e.clear_summary(); },
     "events[0].summary"},
    {"SummaryBlank", kMeeting, [](v1::Event& e) { e.set_summary(" \n\t"); },
     "events[0].summary"},
    {"SummaryTooLong", kMeeting,
     [](v1::Event& e) { e.set_summary(std::string(4097, 'x')); },
     "events[0].summary"},
    // tags
    {"TagUpperCase", kMeeting, [](v1::Event& e) { e.add_tags("Human-Rights"); },
     "events[0].tags[2]"},
    {"TagEmpty", kMeeting, [](v1::Event& e) { e.add_tags(""); },
     "events[0].tags[2]"},
    {"TagSpace", kMeeting, [](v1::Event& e) { e.add_tags("human rights"); },
     "events[0].tags[2]"},
    {"TagTooLong", kMeeting,
     [](v1::Event& e) { e.add_tags(std::string(65, 'a')); },
     "events[0].tags[2]"},
    {"TagRepeated", kMeeting, [](v1::Event& e) { e.add_tags("summit"); },
     "events[0].tags[2]"},
    // sources
    {"SourcesEmpty", kMeeting, [](v1::Event& e) { e.clear_sources(); },
     "events[0].sources"},
    {"SourcePublisherMissing", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->clear_publisher(); },
     "events[0].sources[0].publisher"},
    {"SourceTitleMissing", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->clear_title(); },
     "events[0].sources[0].title"},
    {"SourceUrlNotHttp", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->set_url("ftp://example.org/a"); },
     "events[0].sources[0].url"},
    {"SourceUrlRelative", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->set_url("www.example.org/a"); },
     "events[0].sources[0].url"},
    {"SourceUrlNoHost", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->set_url("https:///path"); },
     "events[0].sources[0].url"},
    {"SourceUrlOnlyScheme", kMeeting,
     [](v1::Event& e) { e.mutable_sources(0)->set_url("http://"); },
     "events[0].sources[0].url"},
    {"SourceUrlWithSpace", kMeeting,
     [](v1::Event& e) {
       e.mutable_sources(0)->set_url("https://example.org/a b");
     },
     "events[0].sources[0].url"},
    {"SourcePublishedInvalid", kMeeting,
     [](v1::Event& e) {
       e.mutable_sources(0)->mutable_published()->set_month(2);
       e.mutable_sources(0)->mutable_published()->set_day(30);
     },
     "events[0].sources[0].published.day"},
    {"SecondSourceTitleMissing", kMeeting,
     [](v1::Event& e) {
       e.add_sources()->set_publisher("KCNA");
     },
     "events[0].sources[1].title"},
    // meeting
    {"MeetingTypeMissing", kMeeting,
     [](v1::Event& e) { e.mutable_meeting()->clear_type(); },
     "events[0].meeting.type"},
    {"MeetingTypeUnknown", kMeeting,
     [](v1::Event& e) {
       e.mutable_meeting()->set_type(Unknown<v1::Meeting::Type>());
     },
     "events[0].meeting.type"},
    {"MeetingLevelMissing", kMeeting,
     [](v1::Event& e) { e.mutable_meeting()->clear_level(); },
     "events[0].meeting.level"},
    {"MeetingLevelUnknown", kMeeting,
     [](v1::Event& e) {
       e.mutable_meeting()->set_level(Unknown<v1::Meeting::Level>());
     },
     "events[0].meeting.level"},
    {"MeetingFormatUnknown", kMeeting,
     [](v1::Event& e) {
       e.mutable_meeting()->set_format(Unknown<v1::Meeting::Format>());
     },
     "events[0].meeting.format"},
    {"MeetingOutcomeUnknown", kMeeting,
     [](v1::Event& e) {
       e.mutable_meeting()->set_outcome(Unknown<v1::Meeting::Outcome>());
     },
     "events[0].meeting.outcome"},
    {"MeetingParticipantEmpty", kMeeting,
     [](v1::Event& e) { e.mutable_meeting()->add_participants(""); },
     "events[0].meeting.participants[2]"},
    // agreement
    {"AgreementTitleMissing", kAgreement,
     [](v1::Event& e) { e.mutable_agreement()->clear_title(); },
     "events[0].agreement.title"},
    {"AgreementPartyUnknown", kAgreement,
     [](v1::Event& e) { e.mutable_agreement()->set_parties(1, "DPRK"); },
     "events[0].agreement.parties[1]"},
    {"AgreementPartyRepeated", kAgreement,
     [](v1::Event& e) { e.mutable_agreement()->add_parties("JPN"); },
     "events[0].agreement.parties[2]"},
    {"AgreementCommitmentEmpty", kAgreement,
     [](v1::Event& e) { e.mutable_agreement()->add_commitments(" "); },
     "events[0].agreement.commitments[1]"},
    // resolution
    {"ResolutionBodyMissing", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->clear_body(); },
     "events[0].resolution.body"},
    {"ResolutionBodyCountry", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->set_body("JPN"); },
     "events[0].resolution.body"},
    {"ResolutionBodyUnknown", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->set_body("HRC"); },
     "events[0].resolution.body"},
    {"ResolutionActionMissing", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->clear_action();
       e.mutable_resolution()->clear_adoption();
       e.mutable_resolution()->clear_votes();
     },
     "events[0].resolution.action"},
    {"ResolutionActionUnknown", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->set_action(
           Unknown<v1::ResolutionAction::Action>());
     },
     "events[0].resolution.action"},
    {"ResolutionAdoptionUnknown", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->set_adoption(
           Unknown<v1::ResolutionAction::Adoption>());
     },
     "events[0].resolution.adoption"},
    {"ResolutionAdoptionForTabled", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->set_action(
           v1::ResolutionAction::ACTION_TABLED);
       e.mutable_resolution()->set_adoption(
           v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
       e.mutable_resolution()->clear_votes();
     },
     "events[0].resolution.adoption"},
    {"ResolutionVetoedWithoutVote", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->set_action(
           v1::ResolutionAction::ACTION_VETOED);
       e.mutable_resolution()->set_adoption(
           v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
       e.mutable_resolution()->clear_votes();
     },
     "events[0].resolution.adoption"},
    {"ResolutionRecordedVoteWithoutVotes", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->clear_votes(); },
     "events[0].resolution.votes"},
    {"ResolutionVotesWithoutRecordedVote", kResolution,
     [](v1::Event& e) {
       e.mutable_resolution()->set_adoption(
           v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
     },
     "events[0].resolution.votes"},
    {"ResolutionVotesWithoutAdoption", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->clear_adoption(); },
     "events[0].resolution.votes"},
    {"ResolutionVotesNegative", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->mutable_votes()->set_no(-1); },
     "events[0].resolution.votes.no"},
    {"ResolutionVotesAllZero", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->mutable_votes()->Clear(); },
     "events[0].resolution.votes"},
    {"ResolutionSponsorUnknown", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->add_sponsors("Japan"); },
     "events[0].resolution.sponsors[2]"},
    {"ResolutionSponsorRepeated", kResolution,
     [](v1::Event& e) { e.mutable_resolution()->add_sponsors("EU"); },
     "events[0].resolution.sponsors[2]"},
    // statement
    {"StatementSpeakerMissing", kStatement,
     [](v1::Event& e) { e.mutable_statement()->clear_speaker(); },
     "events[0].statement.speaker"},
    {"StatementStanceMissing", kStatement,
     [](v1::Event& e) { e.mutable_statement()->clear_stance(); },
     "events[0].statement.stance"},
    {"StatementStanceUnknown", kStatement,
     [](v1::Event& e) {
       e.mutable_statement()->set_stance(Unknown<v1::Statement::Stance>());
     },
     "events[0].statement.stance"},
    {"StatementOnBehalfOfUnknown", kStatement,
     [](v1::Event& e) { e.mutable_statement()->set_on_behalf_of("Japan"); },
     "events[0].statement.on_behalf_of"},
    // sanction
    {"SanctionActionMissing", kSanction,
     [](v1::Event& e) { e.mutable_sanction()->clear_action(); },
     "events[0].sanction.action"},
    {"SanctionActionUnknown", kSanction,
     [](v1::Event& e) {
       e.mutable_sanction()->set_action(Unknown<v1::Sanction::Action>());
     },
     "events[0].sanction.action"},
    {"SanctionNoMeasures", kSanction,
     [](v1::Event& e) { e.mutable_sanction()->clear_measures(); },
     "events[0].sanction.measures"},
    {"SanctionMeasureEmpty", kSanction,
     [](v1::Event& e) { e.mutable_sanction()->add_measures(""); },
     "events[0].sanction.measures[1]"},
    // military
    {"MilitaryTypeMissing", kMilitary,
     [](v1::Event& e) { e.mutable_military()->clear_type(); },
     "events[0].military.type"},
    {"MilitaryTypeUnknown", kMilitary,
     [](v1::Event& e) {
       e.mutable_military()->set_type(Unknown<v1::MilitaryAction::Type>());
     },
     "events[0].military.type"},
    // humanitarian
    {"HumanitarianTypeMissing", kHumanitarian,
     [](v1::Event& e) { e.mutable_humanitarian()->clear_type(); },
     "events[0].humanitarian.type"},
    {"HumanitarianTypeUnknown", kHumanitarian,
     [](v1::Event& e) {
       e.mutable_humanitarian()->set_type(
           Unknown<v1::HumanitarianDevelopment::Type>());
     },
     "events[0].humanitarian.type"},
    {"HumanitarianPeopleNegative", kHumanitarian,
     [](v1::Event& e) { e.mutable_humanitarian()->set_people(-5); },
     "events[0].humanitarian.people"},
    // policy_change
    {"PolicyMissing", kPolicyChange,
     [](v1::Event& e) { e.mutable_policy_change()->clear_policy(); },
     "events[0].policy_change.policy"},
    {"PolicyDirectionMissing", kPolicyChange,
     [](v1::Event& e) { e.mutable_policy_change()->clear_direction(); },
     "events[0].policy_change.direction"},
    {"PolicyDirectionUnknown", kPolicyChange,
     [](v1::Event& e) {
       e.mutable_policy_change()->set_direction(
           Unknown<v1::PolicyChange::Direction>());
     },
     "events[0].policy_change.direction"},
    // correction
    {"CorrectsEventIdMissing", kRetraction,
     [](v1::Event& e) { e.mutable_correction()->clear_corrects_event_id(); },
     "events[0].correction.corrects_event_id"},
    {"CorrectsEventIdBadForm", kRetraction,
     [](v1::Event& e) {
       e.mutable_correction()->set_corrects_event_id("e 0");
     },
     "events[0].correction.corrects_event_id"},
    {"CorrectsItself", kRetraction,
     [](v1::Event& e) { e.mutable_correction()->set_corrects_event_id("e1"); },
     "events[0].correction.corrects_event_id"},
    {"CorrectionActionMissing", kRetraction,
     [](v1::Event& e) { e.mutable_correction()->clear_action(); },
     "events[0].correction.action"},
    {"CorrectionActionUnknown", kRetraction,
     [](v1::Event& e) {
       e.mutable_correction()->set_action(Unknown<v1::Correction::Action>());
     },
     "events[0].correction.action"},
    {"CorrectionReasonMissing", kRetraction,
     [](v1::Event& e) { e.mutable_correction()->clear_reason(); },
     "events[0].correction.reason"},
    {"RetractWithAmended", kRetraction,
     [](v1::Event& e) {
       *e.mutable_correction()->mutable_amended() = MakeEvent(kMeeting, "");
     },
     "events[0].correction.amended"},
    {"AmendWithoutAmended", kRetraction,
     [](v1::Event& e) {
       e.mutable_correction()->set_action(v1::Correction::ACTION_AMEND);
     },
     "events[0].correction.amended"},
};

INSTANTIATE_TEST_SUITE_P(
    Rules, BrokenRuleTest, ::testing::ValuesIn(kRuleCases),
    [](const ::testing::TestParamInfo<RuleCase>& info) {
      return info.param.name;
    });

// ---------------------------------------------------------------------------
// Descriptions say what is expected

TEST(ValidateEventTest, UnknownActorDescriptionQuotesTheCode) {
  v1::Event event = MakeEvent();
  event.set_source(0, "JPX");
  EXPECT_EQ(OnlyViolation(event).description,
            "must be a known ISO 3166-1 alpha-3 or organisation code, got "
            "\"JPX\"");
}

TEST(ValidateEventTest, LowerCaseActorDescriptionSuggestsUpperCase) {
  v1::Event event = MakeEvent();
  event.set_target(0, "prk");
  EXPECT_THAT(OnlyViolation(event).description, HasSubstr("\"PRK\""));
}

TEST(ValidateEventTest, RepeatedActorNamesTheEarlierIndex) {
  v1::Event event = MakeEvent();
  event.add_source("USA");
  event.add_source("JPN");
  EXPECT_THAT(OnlyViolation(event).description,
              HasSubstr("events[0].source[0]"));
}

TEST(ValidateEventTest, TargetAlsoInSourceNamesTheSource) {
  v1::Event event = MakeEvent();
  event.add_source("USA");
  event.set_target(0, "USA");
  const rpc::FieldViolation v = OnlyViolation(event);
  EXPECT_EQ(v.field, "events[0].target[0]");
  EXPECT_THAT(v.description, HasSubstr("events[0].source[1]"));
}

TEST(ValidateEventTest, UnknownEnumValueNamesTheChoices) {
  v1::Event event = MakeEvent();
  event.mutable_meeting()->set_type(static_cast<v1::Meeting::Type>(7));
  const std::string description = OnlyViolation(event).description;
  EXPECT_THAT(description, HasSubstr("7"));
  EXPECT_THAT(description, HasSubstr("TYPE_SUMMIT"));
}

TEST(ValidateEventTest, DayPastEndOfMonthNamesTheLastDay) {
  v1::Event event = MakeEvent();
  event.mutable_occurred()->mutable_start()->set_month(4);
  event.mutable_occurred()->mutable_start()->set_day(31);
  EXPECT_THAT(OnlyViolation(event).description,
              HasSubstr("1 through 30 for 2002-04"));
}

TEST(ValidateEventTest, LongValuesAreQuotedShortened) {
  v1::Event event = MakeEvent();
  event.set_id(std::string(1000, '/'));
  const std::string description = OnlyViolation(event).description;
  EXPECT_LT(description.size(), 200u) << description;
}

TEST(ValidateEventTest, SeveralProblemsAreAllReported) {
  v1::Event event = MakeEvent();
  event.set_source(0, "JPX");
  event.mutable_occurred()->mutable_start()->set_month(13);
  event.clear_summary();
  event.mutable_meeting()->clear_level();
  EXPECT_THAT(Paths(event),
              ElementsAre("events[0].meeting.level", "events[0].source[0]",
                          "events[0].occurred.start.month",
                          "events[0].summary"));
}

TEST(ValidateEventTest, OrganisationsAreActors) {
  v1::Event event = MakeEvent(kStatement);
  event.set_source(0, "EU");
  event.mutable_statement()->set_on_behalf_of("UNHRC");
  EXPECT_THAT(Paths(event), IsEmpty());
}

TEST(ValidateEventTest, AcceptedUrlForms) {
  for (const char* url :
       {"http://example.org", "https://example.org/a?b=c#d",
        "HTTPS://Example.org/", "https://example.org:8443/x",
        "https://[2001:db8::1]/x", "https://user@example.org/"}) {
    v1::Event event = MakeEvent();
    event.mutable_sources(0)->set_url(url);
    EXPECT_THAT(Paths(event), IsEmpty()) << url;
  }
  v1::Event event = MakeEvent();
  event.mutable_sources(0)->clear_url();
  EXPECT_THAT(Paths(event), IsEmpty());
}

TEST(ValidateEventTest, AcceptedCameoCodes) {
  for (const char* code : {"", "04", "036", "0311"}) {
    v1::Event event = MakeEvent();
    event.set_cameo_code(code);
    EXPECT_THAT(Paths(event), IsEmpty()) << code;
  }
}

TEST(ValidateEventTest, SummaryOfExactlyTheLimitPasses) {
  v1::Event event = MakeEvent();
  event.set_summary(std::string(4096, 'x'));
  EXPECT_THAT(Paths(event), IsEmpty());
}

TEST(ValidateEventTest, IdOfAllowedCharactersAndMaxLengthPasses) {
  v1::Event event = MakeEvent();
  event.set_id("AZaz09._:-");
  EXPECT_THAT(Paths(event), IsEmpty());
  event.set_id(std::string(128, 'a'));
  EXPECT_THAT(Paths(event), IsEmpty());
}

// ---------------------------------------------------------------------------
// Dates

TEST(DateTest, LeapYearDays) {
  struct Case {
    int year, month, day;
    bool valid;
  };
  for (const Case& c : {Case{2000, 2, 29, true}, Case{2004, 2, 29, true},
                        Case{2024, 2, 29, true}, Case{1900, 2, 29, false},
                        Case{2100, 2, 29, false}, Case{2003, 2, 29, false},
                        Case{2004, 2, 30, false}, Case{2003, 2, 28, true},
                        Case{2019, 4, 30, true}, Case{2019, 4, 31, false},
                        Case{2019, 12, 31, true}, Case{2019, 1, 32, false},
                        Case{1, 1, 1, true}, Case{9999, 12, 31, true}}) {
    v1::Event event = MakeEvent();
    auto* start = event.mutable_occurred()->mutable_start();
    start->set_year(c.year);
    start->set_month(c.month);
    start->set_day(c.day);
    const std::string date = absl::StrCat(c.year, "-", c.month, "-", c.day);
    if (c.valid) {
      EXPECT_THAT(Paths(event), IsEmpty()) << date;
    } else {
      EXPECT_THAT(Paths(event), ElementsAre("events[0].occurred.start.day"))
          << date;
    }
  }
}

TEST(DateTest, PrecisionIsDerivedFromTheSetParts) {
  struct Case {
    int month, day;
    v1::DatePrecision expected;
  };
  for (const Case& c : {Case{9, 17, v1::DATE_PRECISION_DAY},
                        Case{9, 0, v1::DATE_PRECISION_MONTH},
                        Case{0, 0, v1::DATE_PRECISION_YEAR}}) {
    v1::Event event = MakeEvent();
    event.mutable_occurred()->mutable_start()->set_month(c.month);
    event.mutable_occurred()->mutable_start()->set_day(c.day);
    ASSERT_THAT(Paths(event), IsEmpty());
    NormalizeEvent(&event);
    EXPECT_EQ(event.occurred().precision(), c.expected)
        << v1::DatePrecision_Name(c.expected);
    // Given explicitly, the same precision passes; each other one does not.
    for (v1::DatePrecision given :
         {v1::DATE_PRECISION_DAY, v1::DATE_PRECISION_MONTH,
          v1::DATE_PRECISION_YEAR}) {
      event.mutable_occurred()->set_precision(given);
      if (given == c.expected) {
        EXPECT_THAT(Paths(event), IsEmpty());
      } else {
        EXPECT_THAT(Paths(event), ElementsAre("events[0].occurred.precision"))
            << v1::DatePrecision_Name(given) << " for "
            << v1::DatePrecision_Name(c.expected);
      }
    }
  }
}

TEST(DateTest, NormalizeKeepsAGivenPrecision) {
  v1::Event event = MakeEvent();
  event.mutable_occurred()->set_precision(v1::DATE_PRECISION_DAY);
  NormalizeEvent(&event);
  EXPECT_EQ(event.occurred().precision(), v1::DATE_PRECISION_DAY);
}

TEST(DateTest, NormalizeFillsTheAmendedEventsPrecision) {
  v1::Event event = MakeEvent(Amendment());
  event.mutable_correction()
      ->mutable_amended()
      ->mutable_occurred()
      ->mutable_start()
      ->set_day(0);
  ASSERT_THAT(Paths(event), IsEmpty());
  NormalizeEvent(&event);
  EXPECT_EQ(event.occurred().precision(), v1::DATE_PRECISION_DAY);
  EXPECT_EQ(event.correction().amended().occurred().precision(),
            v1::DATE_PRECISION_MONTH);
}

TEST(DateTest, EndOfTheSamePrecisionNotBeforeStartPasses) {
  // Talks held May 26-28, 2014; also a one-day span and a month span.
  struct Case {
    int start_month, start_day, end_month, end_day;
  };
  for (const Case& c : {Case{5, 26, 5, 28}, Case{5, 26, 5, 26},
                        Case{5, 26, 6, 1}, Case{5, 0, 7, 0}}) {
    v1::Event event = MakeEvent();
    auto* o = event.mutable_occurred();
    o->mutable_start()->set_year(2014);
    o->mutable_start()->set_month(c.start_month);
    o->mutable_start()->set_day(c.start_day);
    o->mutable_end()->set_year(2014);
    o->mutable_end()->set_month(c.end_month);
    o->mutable_end()->set_day(c.end_day);
    EXPECT_THAT(Paths(event), IsEmpty());
  }
}

TEST(DateTest, YearPrecisionEndBeforeStartIsReported) {
  v1::Event event = MakeEvent();
  auto* o = event.mutable_occurred();
  o->mutable_start()->set_month(0);
  o->mutable_start()->set_day(0);
  o->mutable_end()->set_year(2001);
  EXPECT_THAT(Paths(event), ElementsAre("events[0].occurred.end"));
}

TEST(DateTest, InvalidStartIsReportedOnceWithoutPrecisionOrEndNoise) {
  v1::Event event = MakeEvent();
  auto* o = event.mutable_occurred();
  o->mutable_start()->set_day(31);  // September has 30 days
  o->set_precision(v1::DATE_PRECISION_YEAR);
  o->mutable_end()->set_year(2002);
  EXPECT_THAT(Paths(event), ElementsAre("events[0].occurred.start.day"));
}

TEST(DateTest, SourcePublishedDateAtAnyPrecision) {
  v1::Event event = MakeEvent();
  event.mutable_sources(0)->mutable_published()->set_day(0);
  EXPECT_THAT(Paths(event), IsEmpty());
  event.mutable_sources(0)->mutable_published()->set_month(0);
  EXPECT_THAT(Paths(event), IsEmpty());
  event.mutable_sources(0)->mutable_published()->set_year(0);
  EXPECT_THAT(Paths(event), ElementsAre("events[0].sources[0].published.year"));
}

// ---------------------------------------------------------------------------
// Corrections

TEST(CorrectionTest, AmendedEventIsValidatedAsAFullEvent) {
  v1::Event event = MakeEvent(Amendment());
  v1::Event* amended = event.mutable_correction()->mutable_amended();
  amended->mutable_occurred()->mutable_start()->set_month(13);
  amended->set_target(0, "JPX");
  amended->clear_sources();
  EXPECT_THAT(Paths(event),
              ElementsAre("events[0].correction.amended.target[0]",
                          "events[0].correction.amended.occurred.start.month",
                          "events[0].correction.amended.sources"));
}

TEST(CorrectionTest, AmendedIdMayEqualCorrectsEventId) {
  v1::Event event = MakeEvent(Amendment());
  event.mutable_correction()->mutable_amended()->set_id("e0");
  EXPECT_THAT(Paths(event), IsEmpty());
}

TEST(CorrectionTest, AmendedIdOtherThanCorrectsEventIdIsReported) {
  v1::Event event = MakeEvent(Amendment());
  event.mutable_correction()->mutable_amended()->set_id("e9");
  const rpc::FieldViolation v = OnlyViolation(event);
  EXPECT_EQ(v.field, "events[0].correction.amended.id");
  EXPECT_THAT(v.description, HasSubstr("\"e0\""));
}

TEST(CorrectionTest, AmendedEventMustNotBeACorrection) {
  v1::Event event = MakeEvent(Amendment());
  *event.mutable_correction()->mutable_amended() =
      MakeEvent(kRetraction, "");
  EXPECT_THAT(Paths(event),
              ElementsAre("events[0].correction.amended.correction"));
}

TEST(CorrectionTest, AmendedEventNeedsAKind) {
  v1::Event event = MakeEvent(Amendment());
  event.mutable_correction()->mutable_amended()->clear_what();
  EXPECT_THAT(Paths(event), ElementsAre("events[0].correction.amended.what"));
}

}  // namespace
}  // namespace annals::services
