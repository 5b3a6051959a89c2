// Tests of append requests (services/model/validation.h: PrimaryDyad,
// stream names, ToAppendBatch), the actor registry
// (services/model/actors.h) and the example events in clients/examples.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/event_log.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/actors.h"
#include "services/model/validation.h"
#include "storage/event_log.h"
#include "tests/model/validation_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// ---------------------------------------------------------------------------
// PrimaryDyad and stream names

v1::Event WithActors(std::vector<std::string> source,
                     std::vector<std::string> target) {
  v1::Event event = MakeEvent();
  event.clear_source();
  event.clear_target();
  for (auto& s : source) event.add_source(s);
  for (auto& t : target) event.add_target(t);
  EXPECT_THAT(Paths(event), IsEmpty());
  return event;
}

TEST(PrimaryDyadTest, SourceAndTargetSorted) {
  EXPECT_EQ(PrimaryDyad(WithActors({"JPN"}, {"PRK"})), "JPN-PRK");
  EXPECT_EQ(PrimaryDyad(WithActors({"PRK"}, {"JPN"})), "JPN-PRK");
  EXPECT_EQ(PrimaryDyad(WithActors({"PRK"}, {"EU"})), "EU-PRK");
}

TEST(PrimaryDyadTest, FirstSourceAndFirstTarget) {
  EXPECT_EQ(PrimaryDyad(WithActors({"USA", "JPN"}, {"PRK", "CHN"})),
            "PRK-USA");
}

TEST(PrimaryDyadTest, NoTargetUsesTheFirstTwoSources) {
  EXPECT_EQ(PrimaryDyad(WithActors({"USA", "PRK"}, {})), "PRK-USA");
  EXPECT_EQ(PrimaryDyad(WithActors({"USA", "PRK", "KOR"}, {})), "PRK-USA");
}

TEST(PrimaryDyadTest, SingleActorIsItsOwnStream) {
  EXPECT_EQ(PrimaryDyad(WithActors({"PRK"}, {})), "PRK");
  EXPECT_EQ(PrimaryDyad(WithActors({"UNHRC"}, {})), "UNHRC");
}

TEST(StreamNameTest, FormOfIds) {
  EXPECT_TRUE(IsValidStreamName("JPN-PRK"));
  EXPECT_TRUE(IsValidStreamName("a.b_c:d-E9"));
  EXPECT_TRUE(IsValidStreamName(std::string(128, 's')));
  EXPECT_FALSE(IsValidStreamName(""));
  EXPECT_FALSE(IsValidStreamName(std::string(129, 's')));
  EXPECT_FALSE(IsValidStreamName("JPN PRK"));
  EXPECT_FALSE(IsValidStreamName("JPN/PRK"));
  EXPECT_FALSE(IsValidStreamName("日本"));
}

// ---------------------------------------------------------------------------
// ToAppendBatch

v1::AppendRequest Request(std::vector<v1::Event> events,
                          std::string stream = "") {
  v1::AppendRequest request;
  request.set_stream(stream);
  for (auto& e : events) *request.add_events() = std::move(e);
  return request;
}

TEST(ToAppendBatchTest, DerivesTheStreamAndNormalizes) {
  v1::Event a = MakeEvent(kMeeting, "a");
  v1::Event b = MakeEvent(kStatement, "b");
  b.set_source(0, "PRK");
  b.set_target(0, "JPN");
  b.mutable_statement()->clear_on_behalf_of();
  b.mutable_occurred()->mutable_start()->set_day(0);
  ANNALS_ASSERT_OK_AND_ASSIGN(storage::AppendBatch batch,
                              ToAppendBatch(Request({a, b}), Limits()));
  EXPECT_EQ(batch.stream, "JPN-PRK");
  EXPECT_EQ(batch.expected.kind, storage::ExpectedVersion::Kind::kAny);
  EXPECT_EQ(batch.principal, "");
  ASSERT_THAT(batch.events, SizeIs(2));
  EXPECT_EQ(batch.events[0].id(), "a");
  EXPECT_EQ(batch.events[1].id(), "b");
  EXPECT_EQ(batch.events[0].occurred().precision(), v1::DATE_PRECISION_DAY);
  EXPECT_EQ(batch.events[1].occurred().precision(), v1::DATE_PRECISION_MONTH);
}

TEST(ToAppendBatchTest, GivenStreamIsUsedAsIs) {
  v1::Event a = MakeEvent(kMeeting, "a");
  v1::Event b = MakeEvent(kMeeting, "b");
  b.set_target(0, "USA");
  ANNALS_ASSERT_OK_AND_ASSIGN(
      storage::AppendBatch batch,
      ToAppendBatch(Request({a, b}, "six-party-talks"), Limits()));
  EXPECT_EQ(batch.stream, "six-party-talks");
}

TEST(ToAppendBatchTest, DisagreeingDyadsNeedAnExplicitStream) {
  v1::Event a = MakeEvent(kMeeting, "a");
  v1::Event b = MakeEvent(kMeeting, "b");
  v1::Event c = MakeEvent(kMeeting, "c");
  c.set_target(0, "USA");
  const absl::Status status =
      ToAppendBatch(Request({a, b, c}), Limits()).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  const auto violations = rpc::FieldViolations(status);
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "events[2]");
  EXPECT_EQ(violations[0].description,
            "primary dyad JPN-USA differs from JPN-PRK of events[0]; set "
            "`stream` explicitly to append them together");
}

TEST(ToAppendBatchTest, DyadsOfInvalidEventsAreNotCompared) {
  v1::Event a = MakeEvent(kMeeting, "a");
  a.set_target(0, "USA");
  a.clear_summary();
  v1::Event b = MakeEvent(kMeeting, "b");
  const absl::Status status = ToAppendBatch(Request({a, b}), Limits()).status();
  EXPECT_THAT(Paths(status), ElementsAre("events[0].summary"));
}

TEST(ToAppendBatchTest, InvalidStreamName) {
  const absl::Status status =
      ToAppendBatch(Request({MakeEvent()}, "JPN PRK"), Limits()).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Paths(status), ElementsAre("stream"));
}

TEST(ToAppendBatchTest, NoEvents) {
  const absl::Status status = ToAppendBatch(Request({}), Limits()).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  const auto violations = rpc::FieldViolations(status);
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "events");
  EXPECT_THAT(violations[0].description,
              HasSubstr("at least one event is required"));
}

TEST(ToAppendBatchTest, DuplicateIdsNameTheEarlierIndex) {
  const absl::Status status =
      ToAppendBatch(Request({MakeEvent(kMeeting, "a"), MakeEvent(kMeeting, "b"),
                             MakeEvent(kStatement, "a")}),
                    Limits())
          .status();
  const auto violations = rpc::FieldViolations(status);
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "events[2].id");
  EXPECT_THAT(violations[0].description, HasSubstr("events[0]"));
}

TEST(ToAppendBatchTest, TooManyEventsIsResourceExhausted) {
  Limits limits;
  limits.max_append_events = 2;
  EXPECT_THAT(ToAppendBatch(Request({MakeEvent(kMeeting, "a"),
                                     MakeEvent(kMeeting, "b")}),
                            limits),
              IsOk());
  EXPECT_THAT(
      ToAppendBatch(Request({MakeEvent(kMeeting, "a"), MakeEvent(kMeeting, "b"),
                             MakeEvent(kMeeting, "c")}),
                    limits),
      StatusIs(absl::StatusCode::kResourceExhausted,
               ::testing::AllOf(HasSubstr("events"), HasSubstr("3"),
                                HasSubstr("2"))));
}

TEST(ToAppendBatchTest, TooLargeEventIsResourceExhausted) {
  v1::Event big = MakeEvent(kMeeting, "b");
  big.set_summary(std::string(2000, 'x'));  // valid: at most 4096 bytes
  Limits limits;
  limits.max_event_bytes = 1024;
  ASSERT_LE(MakeEvent(kMeeting, "a").ByteSizeLong(), limits.max_event_bytes);
  EXPECT_THAT(ToAppendBatch(Request({MakeEvent(kMeeting, "a"), big}), limits),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       ::testing::AllOf(HasSubstr("events[1]"),
                                        HasSubstr("1024"))));
}

TEST(ToAppendBatchTest, EventOfExactlyTheByteLimitPasses) {
  v1::Event event = MakeEvent();
  Limits limits;
  limits.max_event_bytes = event.ByteSizeLong();
  EXPECT_THAT(ToAppendBatch(Request({event}), limits), IsOk());
}

TEST(ToAppendBatchTest, EveryViolationOfEveryEventIsReported) {
  v1::Event a = MakeEvent(kMeeting, "a");
  a.mutable_occurred()->mutable_start()->set_month(13);
  v1::Event b = MakeEvent(kMeeting, "b");
  b.set_source(0, "JPX");
  b.clear_sources();
  v1::Event c = MakeEvent(kMeeting, "a");
  const absl::Status status =
      ToAppendBatch(Request({a, b, c}, "bad stream"), Limits()).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("events[1].source[0]")));
  EXPECT_THAT(Paths(status),
              ElementsAre("stream", "events[0].occurred.start.month",
                          "events[1].source[0]", "events[1].sources",
                          "events[2].id"));
}

TEST(ToAppendBatchTest, ExpectedVersionMapping) {
  using Kind = storage::ExpectedVersion::Kind;
  v1::AppendRequest request = Request({MakeEvent()});

  ANNALS_ASSERT_OK_AND_ASSIGN(auto none, ToAppendBatch(request, Limits()));
  EXPECT_EQ(none.expected.kind, Kind::kAny);

  request.mutable_any();
  ANNALS_ASSERT_OK_AND_ASSIGN(auto any, ToAppendBatch(request, Limits()));
  EXPECT_EQ(any.expected.kind, Kind::kAny);

  request.mutable_no_stream();
  ANNALS_ASSERT_OK_AND_ASSIGN(auto no_stream, ToAppendBatch(request, Limits()));
  EXPECT_EQ(no_stream.expected.kind, Kind::kNoStream);

  request.mutable_stream_exists();
  ANNALS_ASSERT_OK_AND_ASSIGN(auto exists, ToAppendBatch(request, Limits()));
  EXPECT_EQ(exists.expected.kind, Kind::kStreamExists);

  request.set_exact(7);
  ANNALS_ASSERT_OK_AND_ASSIGN(auto exact, ToAppendBatch(request, Limits()));
  EXPECT_EQ(exact.expected.kind, Kind::kExact);
  EXPECT_EQ(exact.expected.version, 7u);

  request.set_exact(0);
  ANNALS_ASSERT_OK_AND_ASSIGN(auto exact0, ToAppendBatch(request, Limits()));
  EXPECT_EQ(exact0.expected.kind, Kind::kExact);
  EXPECT_EQ(exact0.expected.version, 0u);
}

// ---------------------------------------------------------------------------
// The actor registry

TEST(ActorsTest, KnownCodes) {
  for (const char* code : {"JPN", "PRK", "USA", "RUS", "CHN", "KOR", "EU",
                           "UNHRC", "UNCHR", "UNGA", "UNSC", "ALA", "ZWE",
                           "XKX", "G7", "G20", "TWN", "PSE", "SSD"}) {
    EXPECT_TRUE(IsKnownActor(code)) << code;
  }
}

TEST(ActorsTest, UnknownCodes) {
  for (const char* code : {"JPX", "jpn", "", "Jpn", "JP", "JPNN", "DPRK",
                           "ROK", "UK", "XXX", "ANT", "YUG", "SUN", "eu",
                           " JPN"}) {
    EXPECT_FALSE(IsKnownActor(code)) << code;
  }
}

TEST(ActorsTest, ExactlyTheAssignedAlpha3CodesPlusKosovo) {
  int count = 0;
  std::string code = "AAA";
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      for (char c = 'A'; c <= 'Z'; ++c) {
        code = {a, b, c};
        if (IsCountryCode(code)) {
          ++count;
          EXPECT_TRUE(IsKnownActor(code)) << code;
          EXPECT_FALSE(IsOrganisation(code)) << code;
        }
      }
    }
  }
  EXPECT_EQ(kCountryCodeCount, 249u);
  EXPECT_EQ(count, static_cast<int>(kCountryCodeCount) + 1);  // + XKX
}

TEST(ActorsTest, Organisations) {
  for (const char* code :
       {"UN", "UNGA", "UNSC", "UNHRC", "UNCHR", "OHCHR", "UNICEF", "WFP",
        "IAEA", "ICRC", "EU", "ASEAN", "AU", "NATO", "G7", "G20", "OSCE",
        "WHO", "ICC", "ICJ", "IMF", "WB", "WTO", "OAS", "OPCW", "SCO", "APEC",
        "ARF"}) {
    EXPECT_TRUE(IsOrganisation(code)) << code;
    EXPECT_TRUE(IsKnownActor(code)) << code;
    EXPECT_FALSE(IsCountryCode(code)) << code;
  }
  EXPECT_FALSE(IsOrganisation("JPN"));
  EXPECT_FALSE(IsOrganisation("unhrc"));
}

// ---------------------------------------------------------------------------
// The example events in clients/examples parse and validate.

std::string ReadExample(absl::string_view name) {
  const std::string path = absl::StrCat(EXAMPLES_DIR, "/", name);
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

v1::Event ParseJson(const std::string& json) {
  v1::Event event;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &event);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return event;
}

TEST(ExamplesTest, SecretTalksOf2001To2002AreValid) {
  const v1::Event event = ParseJson(ReadExample("secret_talks_2001_2002.json"));
  EXPECT_THAT(Paths(event), IsEmpty());
  EXPECT_EQ(event.what_case(), v1::Event::kMeeting);
  EXPECT_EQ(PrimaryDyad(event), "JPN-PRK");
}

TEST(ExamplesTest, EventsJsonLinesAreValidAndAppendTogether) {
  const std::string contents = ReadExample("events.jsonl");
  v1::AppendRequest request;
  for (absl::string_view line :
       absl::StrSplit(contents, '\n', absl::SkipWhitespace())) {
    v1::Event event = ParseJson(std::string(line));
    EXPECT_THAT(Paths(event), IsEmpty()) << line;
    *request.add_events() = std::move(event);
  }
  EXPECT_GE(request.events_size(), 3);
  EXPECT_LE(request.events_size(), 5);
  std::vector<v1::Event::WhatCase> kinds;
  for (const v1::Event& e : request.events()) {
    EXPECT_THAT(kinds, ::testing::Not(::testing::Contains(e.what_case())))
        << "each line is of a different kind";
    kinds.push_back(e.what_case());
  }
  // They span several dyads: the README appends them to one stream.
  request.set_stream("examples");
  ANNALS_ASSERT_OK_AND_ASSIGN(storage::AppendBatch batch,
                              ToAppendBatch(request, Limits()));
  EXPECT_EQ(batch.stream, "examples");
}
}  // namespace
}  // namespace annals::services
