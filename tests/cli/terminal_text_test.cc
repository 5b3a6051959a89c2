// The CLI never writes a raw control character to a terminal: recorded
// text (which an older log may hold with control characters) and server
// errors are printed with them escaped ("\u001b").
#include <string>

#include "annals/v1/event_log.pb.h"
#include "annals/v1/relationship.pb.h"
#include "clients/cli/event_format.h"
#include "clients/cli/relationship_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/control_characters.h"
#include "proto/rpc_status.h"
#include "tests/testing/events.h"

namespace annals {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// True when `text` holds a control character other than newline.
bool HasRawControl(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

constexpr char kHostile[] = "red\x1b[31m bell\a del\x7f nel\xc2\x85 cr\r";

TEST(EscapeControlCharactersTest, WritesEachAsItsCodePoint) {
  EXPECT_EQ(EscapeControlCharacters(kHostile),
            "red\\u001b[31m bell\\u0007 del\\u007f nel\\u0085 cr\\u000d");
  EXPECT_EQ(EscapeControlCharacters("a\nb\tc"), "a\nb\tc");
  EXPECT_EQ(EscapeControlCharacters("a\nb\tc", /*keep_newline_and_tab=*/false),
            "a\\u000ab\\u0009c");
  EXPECT_EQ(EscapeControlCharacters("\xed\x8f\x89\xec\x96\x91 \xc2\xa0"),
            "\xed\x8f\x89\xec\x96\x91 \xc2\xa0");
}

TEST(TerminalTextTest, EventLineEscapesRecordedText) {
  v1::RecordedEvent recorded;
  *recorded.mutable_event() = testing::MakeMeeting("old\x1b");
  recorded.mutable_event()->set_summary(std::string(kHostile) + "\nsecond");
  recorded.set_stream("JPN-PRK");
  const std::string line = FormatEventLine(recorded);
  EXPECT_FALSE(HasRawControl(line)) << line;
  EXPECT_THAT(line, HasSubstr("old\\u001b: red\\u001b[31m"));
  EXPECT_THAT(line, HasSubstr("\\u000asecond")) << "one event, one line";
}

TEST(TerminalTextTest, EventDetailEscapesRecordedText) {
  v1::RecordedEvent recorded;
  *recorded.mutable_event() = testing::MakeMeeting("detail");
  recorded.mutable_event()->set_summary(kHostile);
  recorded.set_principal("anonymous@ipv4:\x1b]0;title\a");
  const std::string detail = FormatEventDetail(recorded);
  EXPECT_FALSE(HasRawControl(detail)) << detail;
  EXPECT_THAT(detail, HasSubstr("\\u001b]0;title\\u0007"));
}

TEST(TerminalTextTest, RelationshipEscapesRecordedText) {
  v1::RelationshipState state;
  state.set_dyad("JPN-PRK");
  state.set_event_count(1);
  v1::EventRef* last = state.mutable_last_event();
  last->set_event_id("x");
  last->set_kind("meeting");
  last->set_summary(kHostile);
  v1::MeetingRecord* meeting = state.mutable_last_meeting();
  meeting->set_place("Pyong\x1byang");
  const std::string text = FormatRelationship(state, v1::GoldsteinIndex());
  EXPECT_FALSE(HasRawControl(text)) << text;
  EXPECT_THAT(text, HasSubstr("Pyong\\u001byang"));
}

TEST(TerminalTextTest, ErrorLineEscapesWhatTheServerSaid) {
  const std::string line =
      rpc::OneLine(absl::NotFoundError("event \"\x1b[2J\" not found\nat all"));
  EXPECT_FALSE(HasRawControl(line)) << line;
  EXPECT_THAT(line, HasSubstr("\\u001b[2J"));
  EXPECT_THAT(line, Not(HasSubstr("\n")));
}

TEST(FormatAppendResponseTest, ConsecutivePositionsPrintAsARange) {
  v1::AppendResponse response;
  response.set_stream("JPN-PRK");
  response.set_stream_version(1000);
  for (uint64_t p = 1; p <= 1000; ++p) response.add_positions(p);
  EXPECT_EQ(FormatAppendResponse(response),
            "appended 1000 events to JPN-PRK: positions 1–1000 (stream "
            "version 1000)");
  google::protobuf::RepeatedField<uint64_t> mixed;
  for (uint64_t p : {7, 8, 9, 12, 14, 15}) mixed.Add(p);
  EXPECT_EQ(FormatPositionRanges(mixed), "7–9, 12, 14–15");
}

}  // namespace
}  // namespace annals
