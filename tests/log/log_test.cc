#include "log/log.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals::log {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Time At() {
  return absl::FromCivil(absl::CivilSecond(2026, 12, 5, 17, 40, 1),
                         absl::UTCTimeZone()) +
         absl::Milliseconds(123);
}

// A JSON line parsed by protobuf's JSON parser, an independent reader.
google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
      << line;
  return parsed;
}

TEST(LogTest, TextLineHasTimeLevelEventAndFieldsInOrder) {
  EXPECT_EQ(FormatLine(Format::kText, At(), Level::kInfo, "start",
                       {{"version", "0.4.0"},
                        {"listen", "127.0.0.1:7465"},
                        {"port", 7465},
                        {"head", uint64_t{18446744073709551615u}},
                        {"rebuilt", false},
                        {"open_ms", 12.5}}),
            "2026-12-05T17:40:01.123Z INFO event=start version=0.4.0 "
            "listen=127.0.0.1:7465 port=7465 head=18446744073709551615 "
            "rebuilt=false open_ms=12.5\n");
  EXPECT_THAT(FormatLine(Format::kText, At(), Level::kWarning, "w", {}),
              StartsWith("2026-12-05T17:40:01.123Z WARN event=w"));
  EXPECT_THAT(FormatLine(Format::kText, At(), Level::kError, "e", {}),
              StartsWith("2026-12-05T17:40:01.123Z ERROR event=e"));
}

TEST(LogTest, TextQuotesValuesWithSpacesQuotesAndControls) {
  const std::string line =
      FormatLine(Format::kText, At(), Level::kError, "error",
                 {{"message", "cannot open \"x\"\nsecond line\tand a \\"},
                  {"empty", ""},
                  {"equals", "a=b"},
                  {"place", "Pyŏngyang 平壤"},
                  {"spaced", "Pyŏngyang 平壤"}});
  EXPECT_EQ(line,
            "2026-12-05T17:40:01.123Z ERROR event=error "
            "message=\"cannot open \\\"x\\\"\\nsecond line\\tand a \\\\\" "
            "empty=\"\" equals=\"a=b\" place=\"Pyŏngyang 平壤\" "
            "spaced=\"Pyŏngyang 平壤\"\n");
  EXPECT_EQ(FormatLine(Format::kText, At(), Level::kInfo, "x",
                       {{"city", "Pyŏngyang"}, {"bell", "\a"}}),
            "2026-12-05T17:40:01.123Z INFO event=x city=Pyŏngyang "
            "bell=\"\\u0007\"\n");
}

TEST(LogTest, EveryLineIsOneLineWhateverTheValuesHold) {
  for (Format format : {Format::kText, Format::kJson}) {
    const std::string line =
        FormatLine(format, At(), Level::kInfo, "x",
                   {{"a", "one\ntwo\r\nthree"}, {"b", std::string("\0\n", 2)}});
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    EXPECT_THAT(line, EndsWith("\n"));
  }
}

TEST(LogTest, JsonLineIsOneObjectWithEveryStringEscaped) {
  const std::string tricky = "say \"hi\"\\\n\ttab \x01 é 日本 \u2028 </script>";
  const std::string line =
      FormatLine(Format::kJson, At(), Level::kWarning, "slow_request",
                 {{"method", "/annals.v1.EventLog/Append"},
                  {"tricky", tricky},
                  {"duration_ms", 1234.5},
                  {"head", 42},
                  {"ok", true}});
  EXPECT_THAT(line, StartsWith("{\"time\":\"2026-12-05T17:40:01.123Z\","
                               "\"level\":\"WARN\",\"event\":\"slow_request\","
                               "\"method\":"));
  EXPECT_THAT(line, HasSubstr("\\\"hi\\\"\\\\\\n\\ttab \\u0001 é 日本"));
  EXPECT_THAT(line, EndsWith("}\n"));
  const google::protobuf::Struct parsed = ParseJson(line);
  const auto& fields = parsed.fields();
  EXPECT_EQ(fields.at("time").string_value(), "2026-12-05T17:40:01.123Z");
  EXPECT_EQ(fields.at("level").string_value(), "WARN");
  EXPECT_EQ(fields.at("event").string_value(), "slow_request");
  EXPECT_EQ(fields.at("tricky").string_value(), tricky);
  EXPECT_EQ(fields.at("duration_ms").number_value(), 1234.5);
  EXPECT_EQ(fields.at("head").number_value(), 42);
  EXPECT_TRUE(fields.at("ok").bool_value());
}

TEST(LogTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string bad = "dir \xff\xfe/\xc3";
  const std::string json =
      FormatLine(Format::kJson, At(), Level::kError, "x", {{"path", bad}});
  EXPECT_EQ(ParseJson(json).fields().at("path").string_value(),
            "dir \uFFFD\uFFFD/\uFFFD");
  EXPECT_THAT(
      FormatLine(Format::kText, At(), Level::kError, "x", {{"path", "\xff"}}),
      HasSubstr("path=\uFFFD\n"));
}

TEST(LogTest, FormatsAreNamedTextAndJson) {
  EXPECT_THAT(ParseFormat("text"), IsOk());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_THAT(ParseFormat("logfmt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'text' or 'json'")));
}

TEST(LogTest, MillisecondsKeepMicroseconds) {
  EXPECT_EQ(Milliseconds(absl::Microseconds(1234567)), 1234.567);
  EXPECT_EQ(Milliseconds(absl::Nanoseconds(1234567890)), 1234.568);
}

TEST(LogTest, WriteGoesToTheOutputInTheFormatSet) {
  std::vector<std::string> lines;
  SetOutput([&](absl::string_view line) { lines.emplace_back(line); });
  Info("one", {{"n", 1}});
  SetFormat(Format::kJson);
  Error("two");
  SetFormat(Format::kText);
  SetOutput(nullptr);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(" INFO event=one n=1\n"));
  EXPECT_THAT(lines[1], HasSubstr("\"level\":\"ERROR\",\"event\":\"two\"}"));
}

}  // namespace
}  // namespace annals::log
