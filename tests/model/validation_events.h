// Events for the validation tests (services/model/validation.h): a valid
// event of every kind, and the field paths validation reports.
#ifndef ANNALS_TESTS_MODEL_VALIDATION_EVENTS_H_
#define ANNALS_TESTS_MODEL_VALIDATION_EVENTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/validation.h"

namespace annals::services {

inline v1::Event ParseEvent(const std::string& text) {
  v1::Event event;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &event))
      << text;
  return event;
}

// Everything but the id and the kind, valid.
inline constexpr absl::string_view kCommon = R"pb(
  source: "JPN"
  target: "PRK"
  occurred { start { year: 2002 month: 9 day: 17 } }
  cameo_code: "042"
  summary: "Prime Minister Koizumi met Kim Jong Il in Pyongyang."
  tags: "summit"
  tags: "abductions"
  sources {
    publisher: "The Japan Times"
    title: "Koizumi, Kim sign declaration"
    url: "https://www.japantimes.co.jp/news/2002/09/18/"
    published { year: 2002 month: 9 day: 18 }
  }
)pb";

// A valid kind of every sort, as text format.
inline constexpr absl::string_view kMeeting =
    "meeting { type: TYPE_SUMMIT level: LEVEL_LEADERS format: FORMAT_VISIT "
    "place: \"Pyongyang\" outcome: OUTCOME_AGREEMENT "
    "participants: \"Junichiro Koizumi\" participants: \"Kim Jong Il\" }";
inline constexpr absl::string_view kAgreement =
    "agreement { title: \"Japan-DPRK Pyongyang Declaration\" "
    "parties: \"JPN\" parties: \"PRK\" commitments: \"normalize relations\" }";
inline constexpr absl::string_view kResolution =
    "resolution { body: \"UNHRC\" symbol: \"A/HRC/RES/25/25\" "
    "action: ACTION_ADOPTED adoption: ADOPTION_RECORDED_VOTE "
    "votes { yes: 30 no: 6 abstain: 11 } sponsors: \"JPN\" sponsors: \"EU\" "
    "title: \"Situation of human rights in the DPRK\" }";
inline constexpr absl::string_view kStatement =
    "statement { speaker: \"Yoshihide Suga\" on_behalf_of: \"JPN\" "
    "channel: \"press conference\" stance: STANCE_CONCILIATORY }";
inline constexpr absl::string_view kSanction =
    "sanction { action: ACTION_IMPOSED measures: \"port entry ban\" "
    "legal_basis: \"Foreign Exchange Act\" }";
inline constexpr absl::string_view kMilitary =
    "military { type: TYPE_WEAPONS_TEST system: \"ICBM\" }";
inline constexpr absl::string_view kHumanitarian =
    "humanitarian { type: TYPE_RETURN people: 5 }";
inline constexpr absl::string_view kPolicyChange =
    "policy_change { policy: \"Diplomatic Bluebook 2019\" "
    "direction: DIRECTION_SOFTENING }";
inline constexpr absl::string_view kRetraction =
    "correction { corrects_event_id: \"e0\" action: ACTION_RETRACT "
    "reason: \"recorded in error\" }";

inline std::string Amendment() {
  return absl::StrCat(
      "correction { corrects_event_id: \"e0\" action: ACTION_AMEND "
      "reason: \"wrong day\" amended { ",
      kCommon, kMeeting, " } }");
}

// A valid event with `kind` (text format) and `id`.
inline v1::Event MakeEvent(absl::string_view kind = kMeeting,
                    absl::string_view id = "e1") {
  return ParseEvent(absl::StrCat("id: \"", id, "\" ", kCommon, kind));
}

// The field paths ValidateEvent reports for `event` at "events[0]".
inline std::vector<std::string> Paths(const v1::Event& event) {
  std::vector<rpc::FieldViolation> violations;
  ValidateEvent(event, "events[0]", &violations);
  std::vector<std::string> paths;
  for (const auto& v : violations) paths.push_back(v.field);
  return paths;
}

// The one violation reported for `event`; fails the test if there is not
// exactly one.
inline rpc::FieldViolation OnlyViolation(const v1::Event& event) {
  std::vector<rpc::FieldViolation> violations;
  ValidateEvent(event, "events[0]", &violations);
  EXPECT_THAT(violations, ::testing::SizeIs(1));
  return violations.empty() ? rpc::FieldViolation{} : violations[0];
}

inline std::vector<std::string> Paths(const absl::Status& status) {
  std::vector<std::string> paths;
  for (const auto& v : rpc::FieldViolations(status)) paths.push_back(v.field);
  return paths;
}

}  // namespace annals::services

#endif  // ANNALS_TESTS_MODEL_VALIDATION_EVENTS_H_
