// Tests of the reflection walk of validation (CheckRequestFields in
// services/model/validation.h): fields a request holds beyond its schema,
// at any depth, and control characters in the text of its events.
#include <string>
#include <vector>

#include "annals/v1/event_log.pb.h"
#include "annals/v1/query.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/validation.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

// Violations as (field, description) pairs.
std::vector<std::pair<std::string, std::string>> Violations(
    const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const rpc::FieldViolation& v : rpc::FieldViolations(status)) {
    out.emplace_back(v.field, v.description);
  }
  return out;
}

// Adds unknown varint field `number` to `message`.
void AddUnknownField(google::protobuf::Message* message, int number) {
  message->GetReflection()->MutableUnknownFields(message)->AddVarint(number, 1);
}

v1::AppendRequest Append(std::vector<v1::Event> events) {
  v1::AppendRequest request;
  for (v1::Event& event : events) *request.add_events() = std::move(event);
  return request;
}

TEST(CheckRequestFieldsTest, AValidRequestPasses) {
  v1::Event event = MakeMeeting("clean");
  event.set_summary("Two lines,\nand a\ttab: both allowed.");
  EXPECT_THAT(CheckRequestFields(Append({event})), IsOk());
}

TEST(CheckRequestFieldsTest, UnknownFieldIsNamedByTheMessageHoldingIt) {
  v1::AppendRequest request = Append({MakeMeeting("a"), MakeMeeting("b")});
  AddUnknownField(request.mutable_events(1)->mutable_meeting(), 999);
  AddUnknownField(request.mutable_events(0)->mutable_sources(0), 77);
  const absl::Status status = CheckRequestFields(request);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Violations(status),
              ElementsAre(Pair("events[0].sources[0]", "unknown field 77"),
                          Pair("events[1].meeting", "unknown field 999")));
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("events[1].meeting: unknown field 999"));
}

TEST(CheckRequestFieldsTest, UnknownFieldOfTheRequestItselfNamesItsType) {
  v1::GetRelationshipRequest request;
  request.set_dyad("JPN-PRK");
  AddUnknownField(&request, 5000);
  EXPECT_THAT(Violations(CheckRequestFields(request)),
              ElementsAre(Pair("annals.v1.GetRelationshipRequest",
                               "unknown field 5000")));
}

TEST(CheckRequestFieldsTest, UnknownFieldInACorrectionsAmendedEvent) {
  v1::Event correction = MakeMeeting("fix");
  v1::Correction* c = correction.mutable_correction();
  c->set_corrects_event_id("a");
  *c->mutable_amended() = MakeMeeting("a");
  AddUnknownField(c->mutable_amended()->mutable_occurred()->mutable_start(), 9);
  EXPECT_THAT(Violations(CheckRequestFields(Append({correction}))),
              ElementsAre(Pair("events[0].correction.amended.occurred.start",
                               "unknown field 9")));
}

TEST(CheckRequestFieldsTest, ControlCharactersInEveryTextFieldOfAnEvent) {
  v1::Event event = MakeMeeting("ctl");
  event.set_summary("red \x1b[31mtext");
  event.mutable_meeting()->set_place("Pyong\x7fyang");
  event.set_tags(0, "bell\a");
  event.mutable_sources(0)->set_title("next line \xc2\x85 here");  // U+0085
  event.mutable_sources(0)->set_publisher("carriage\rreturn");
  EXPECT_THAT(
      Violations(CheckRequestFields(Append({event}))),
      ElementsAre(
          Pair("events[0].meeting.place",
               "control character U+007F is not allowed (only newline and "
               "tab are)"),
          Pair("events[0].summary",
               "control character U+001B is not allowed (only newline and "
               "tab are)"),
          Pair("events[0].tags[0]",
               "control character U+0007 is not allowed (only newline and "
               "tab are)"),
          Pair("events[0].sources[0].publisher",
               "control character U+000D is not allowed (only newline and "
               "tab are)"),
          Pair("events[0].sources[0].title",
               "control character U+0085 is not allowed (only newline and "
               "tab are)")));
}

TEST(CheckRequestFieldsTest, TextOutsideEventsIsNotCheckedForControls) {
  v1::QueryTimelineRequest request;
  request.set_text("\x1b");  // a search, never stored
  EXPECT_THAT(CheckRequestFields(request), IsOk());
}

TEST(CheckRequestFieldsTest, OtherNonAsciiTextPasses) {
  v1::Event event = MakeMeeting("unicode");
  event.set_summary("Pyongyang \xed\x8f\x89\xec\x96\x91 \xc2\xa0 \xe2\x80\x94");
  EXPECT_THAT(CheckRequestFields(Append({event})), IsOk());
}

}  // namespace
}  // namespace annals::services
