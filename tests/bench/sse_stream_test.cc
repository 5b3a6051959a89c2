#include "clients/bench/sse_stream.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace annals::bench {
namespace {

using ::std::string_literals::operator""s;

// Feeds `pieces` in order and renders every event as "TYPE|ID|DATA\n",
// then the comments seen as "comments=N".
std::string ParsePieces(const std::vector<std::string>& pieces) {
  SseParser parser;
  std::string out;
  for (const std::string& piece : pieces) {
    parser.Feed(piece, [&](const SseEvent& event) {
      absl::StrAppend(&out, event.type, "|", event.id, "|", event.data, "\n");
    });
  }
  absl::StrAppend(&out, "comments=", parser.comments());
  return out;
}

std::string Parse(const std::string& text) { return ParsePieces({text}); }

// What annalsd writes for a batch of two events after the head, a
// heartbeat and a notice (services/http/sse.cc).
const std::string kAnnalsdStream =
    "id: 41\nevent: caughtUp\ndata: {\"position\":\"41\"}\n\n"
    "id: 42\nevent: event\ndata: "
    "{\"event\":{\"id\":\"a\"},\"position\":\"42\"}\n\n"
    "id: 43\nevent: event\ndata: "
    "{\"event\":{\"id\":\"b\"},\"position\":\"43\"}\n\n"
    ": heartbeat\n\n"
    "id: 43\nevent: checkpoint\ndata: {\"position\":\"43\"}\n\n";

const std::string kAnnalsdEvents =
    "caughtUp|41|{\"position\":\"41\"}\n"
    "event|42|{\"event\":{\"id\":\"a\"},\"position\":\"42\"}\n"
    "event|43|{\"event\":{\"id\":\"b\"},\"position\":\"43\"}\n"
    "checkpoint|43|{\"position\":\"43\"}\n"
    "comments=1";

TEST(SseParserTest, ReadsAnnalsdsEvents) {
  EXPECT_EQ(Parse(kAnnalsdStream), kAnnalsdEvents);
}

TEST(SseParserTest, AStreamCutAnywhereGivesTheSameEvents) {
  for (size_t cut = 0; cut <= kAnnalsdStream.size(); ++cut) {
    EXPECT_EQ(ParsePieces(
                  {kAnnalsdStream.substr(0, cut), kAnnalsdStream.substr(cut)}),
              kAnnalsdEvents)
        << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : kAnnalsdStream) bytes.emplace_back(1, c);
  EXPECT_EQ(ParsePieces(bytes), kAnnalsdEvents);
}

TEST(SseParserTest, LinesEndWithCrLfLfOrCr) {
  EXPECT_EQ(
      Parse("id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rid: 3\ndata: c\n\n"),
      "message|1|a\nmessage|2|b\nmessage|3|c\ncomments=0");
}

TEST(SseParserTest, ACrLfCutBetweenPiecesIsOneLineEnd) {
  // Were the LF taken for a line end of its own, the empty line would
  // dispatch "a" before "b" joins it.
  EXPECT_EQ(ParsePieces({"data: a\r", "\ndata: b\r", "\n\r", "\n"}),
            "message||a\nb\ncomments=0");
}

TEST(SseParserTest, DataLinesAreJoinedWithNewlines) {
  EXPECT_EQ(Parse("data: one\ndata:two\ndata\ndata:  three\n\n"),
            "message||one\ntwo\n\n three\ncomments=0");
}

TEST(SseParserTest, AnEventWithoutDataIsNotDispatched) {
  EXPECT_EQ(Parse("event: ping\nid: 7\n\ndata: x\n\n"),
            "message|7|x\ncomments=0");
  // An empty data line is data: the event is dispatched, empty.
  EXPECT_EQ(Parse("event: ping\ndata\n\n"), "ping||\ncomments=0");
}

TEST(SseParserTest, TheTypeIsResetAfterEachEventAndTheIdKept) {
  EXPECT_EQ(Parse("event: a\nid: 5\ndata: 1\n\ndata: 2\n\nid\ndata: 3\n\n"),
            "a|5|1\nmessage|5|2\nmessage||3\ncomments=0");
}

TEST(SseParserTest, AnIdWithNulIsIgnored) {
  EXPECT_EQ(Parse("id: 5\ndata: 1\n\nid: 6\0x\ndata: 2\n\n"s),
            "message|5|1\nmessage|5|2\ncomments=0");
}

TEST(SseParserTest, CommentsAndUnknownFieldsAreSkipped) {
  EXPECT_EQ(Parse(": heartbeat\n\n:\nretry: 10\nfoo: bar\ndata: x\n\n"),
            "message||x\ncomments=2");
}

TEST(SseParserTest, AnOpeningByteOrderMarkIsSkipped) {
  EXPECT_EQ(Parse("\xEF\xBB\xBF"
                  "data: x\n\n"),
            "message||x\ncomments=0");
  EXPECT_EQ(ParsePieces({"\xEF", "\xBB",
                         "\xBF"
                         "data: x\n\n"}),
            "message||x\ncomments=0");
  // Only at the start, and only whole: a partial mark is the line's text.
  EXPECT_EQ(ParsePieces({"\xEF\xBB", "data: x\n\n"}),
            "comments=0");  // a field named "\xEF\xBB" "data": ignored
  EXPECT_EQ(Parse("data: x\n\n\xEF\xBB\xBF"
                  "data: y\n\n"),
            "message||x\ncomments=0");
}

TEST(SseParserTest, AnUnfinishedEventWaitsForItsBlankLine) {
  SseParser parser;
  int events = 0;
  parser.Feed("id: 9\ndata: x\n", [&](const SseEvent&) { ++events; });
  EXPECT_EQ(events, 0);
  parser.Feed("\n", [&](const SseEvent& event) {
    ++events;
    EXPECT_EQ(event.id, "9");
  });
  EXPECT_EQ(events, 1);
  EXPECT_EQ(parser.last_event_id(), "9");
}

}  // namespace
}  // namespace annals::bench
