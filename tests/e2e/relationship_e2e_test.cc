// End-to-end: the real annalsd with the seed timeline imported, queried
// with the real annals CLI (relationship, relationships, timeline, admin
// rebuild). The expected answers were checked by hand against
// deploy/seed/timeline.jsonl and the articles it cites. Every test only
// reads, so the suite shares one server and one import.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"
#include "clients/cli/event_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kSeed = SEED_FILE;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

template <typename Message>
Message FromJson(const std::string& line) {
  Message message;
  const auto status =
      google::protobuf::util::JsonStringToMessage(line, &message);
  EXPECT_TRUE(status.ok()) << status.message() << ": " << line;
  return message;
}

// The seed events, parsed by the CLI's own reader.
const std::vector<v1::Event>& Seed() {
  static const auto* const events = [] {
    auto parsed = ParseEvents(testing::ReadFileOrEmpty(kSeed));
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return new std::vector<v1::Event>(parsed.ok() ? *parsed
                                                  : std::vector<v1::Event>());
  }();
  return *events;
}

// (year, month, day): the occurred sort key of the proto comments.
std::tuple<int, int, int> SortKey(const v1::Occurred& occurred) {
  return {occurred.start().year(), occurred.start().month(),
          occurred.start().day()};
}

class RelationshipEndToEndTest : public ::testing::Test {
 protected:
  // One annalsd for the suite, with the seed timeline imported. Durability
  // is not the point here: buffered writes keep the import fast.
  static void SetUpTestSuite() {
    dir_ =
        new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                  absl::StrCat("relationship_e2e_", getpid()));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    const testing::StartedServer started = testing::StartAnnalsd(
        kAnnalsd, dir_->string(),
        {"--shutdown-grace", "5s", "--durability", "buffered"});
    server_pid_ = started.pid;
    server_ = new std::string(started.address);
    ASSERT_FALSE(server_->empty()) << started.error;
    RunResult import = Annals({"import", kSeed});
    ASSERT_EQ(import.exit_code, 0) << import.err;
    ASSERT_THAT(import.out, StartsWith(absl::StrCat("imported ", Seed().size(),
                                                    " new events")));
  }

  static void TearDownTestSuite() {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      testing::WaitExit(server_pid_);
    }
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete server_;
  }

  void SetUp() override {
    ASSERT_TRUE(server_ != nullptr && !server_->empty()) << "no server";
  }

  static RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", *server_});
    return RunProcess(args, dir_->string());
  }

  // `annals --json relationship ARGS...`, parsed.
  static v1::GetRelationshipResponse Relationship(
      const std::vector<std::string>& args) {
    std::vector<std::string> command = {"--json", "relationship"};
    command.insert(command.end(), args.begin(), args.end());
    RunResult run = Annals(command);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(Lines(run.out).size(), 1u) << run.out;
    return FromJson<v1::GetRelationshipResponse>(run.out);
  }

  // `annals --json timeline ARGS...`, parsed.
  static std::vector<v1::TimelineEntry> Timeline(
      const std::vector<std::string>& args) {
    std::vector<std::string> command = {"--json", "timeline"};
    command.insert(command.end(), args.begin(), args.end());
    RunResult run = Annals(command);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    std::vector<v1::TimelineEntry> entries;
    for (const std::string& line : Lines(run.out)) {
      entries.push_back(FromJson<v1::TimelineEntry>(line));
    }
    return entries;
  }

  static std::filesystem::path* dir_;
  static pid_t server_pid_;
  static std::string* server_;
};

std::filesystem::path* RelationshipEndToEndTest::dir_ = nullptr;
pid_t RelationshipEndToEndTest::server_pid_ = -1;
std::string* RelationshipEndToEndTest::server_ = nullptr;

bool Has(const google::protobuf::RepeatedPtrField<std::string>& codes,
         const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// The seed records Japan tabling the UNHRC resolution with the EU every year
// from 2008 to 2018 (source JPN and EU, target PRK: the tablings land in
// JPN-PRK and EU-PRK), and Japan declining to table it on 2019-03-13. The
// Council's adoptions have source UNHRC, so they are in PRK-UNHRC, not here.
TEST_F(RelationshipEndToEndTest,
       JapanTabledAtTheUnhrcUntil2018AndDeclinedIn2019) {
  const v1::GetRelationshipResponse response = Relationship({"JPN", "PRK"});
  EXPECT_EQ(response.state().dyad(), "JPN-PRK");
  std::set<int> tabled;
  std::set<int> declined;
  for (const v1::ResolutionRecord& record : response.state().resolutions()) {
    if (record.body() != "UNHRC") continue;
    if (Has(record.tabled_by(), "JPN") ||
        Has(record.co_sponsored_by(), "JPN")) {
      tabled.insert(record.year());
    }
    if (Has(record.declined_to_table(), "JPN")) declined.insert(record.year());
  }
  std::set<int> expected_tabled;
  for (int year = 2008; year <= 2018; ++year) expected_tabled.insert(year);
  EXPECT_EQ(tabled, expected_tabled);
  EXPECT_EQ(declined, std::set<int>{2019});

  // The text rendering says the same.
  RunResult text = Annals({"relationship", "JPN-PRK"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out,
              HasSubstr("UNHRC 2018: adopted without a vote (2018-03); tabled "
                        "by EU, JPN"));
  EXPECT_THAT(
      text.out,
      HasSubstr("UNHRC 2019: no decision recorded; declined to table: JPN"));
  EXPECT_THAT(text.out, HasSubstr("(log head 89)"));
}

// By occurred date: the US-DPRK summits are Singapore (June 2018; the seed
// gives no place) and Hanoi (February 2019).
TEST_F(RelationshipEndToEndTest, LastUsDprkSummitAsOfADate) {
  const v1::GetRelationshipResponse march =
      Relationship({"USA", "PRK", "--as-of", "2019-03-31"});
  EXPECT_EQ(march.state().dyad(), "PRK-USA");
  const v1::MeetingRecord& hanoi = march.state().last_meeting();
  EXPECT_EQ(hanoi.event().event_id(), "usa-prk-2019-02-hanoi-summit");
  EXPECT_EQ(hanoi.place(), "Hanoi");
  EXPECT_EQ(hanoi.level(), v1::Meeting::LEVEL_LEADERS);
  EXPECT_EQ(SortKey(hanoi.event().occurred()), std::make_tuple(2019, 2, 0));

  const v1::GetRelationshipResponse december =
      Relationship({"PRK-USA", "--as-of", "2018-12-31"});
  const v1::MeetingRecord& singapore = december.state().last_meeting();
  EXPECT_EQ(singapore.event().event_id(), "usa-prk-2018-06-summit");
  EXPECT_EQ(SortKey(singapore.event().occurred()), std::make_tuple(2018, 6, 0));
  EXPECT_THAT(singapore.participants(),
              ElementsAre("Donald Trump", "Kim Jong Un"));
  EXPECT_LT(december.state().event_count(), march.state().event_count());

  RunResult text =
      Annals({"relationship", "USA", "PRK", "--as-of", "2018-12-31"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("last meeting: 2018-06 leaders summit"));
}

TEST_F(RelationshipEndToEndTest, FirstJapanDprkMeetingIsKoizumisVisitOf2002) {
  const std::vector<v1::TimelineEntry> first =
      Timeline({"JPN", "PRK", "--kind", "meeting", "--limit", "1"});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].event().id(), "jpn-prk-2002-09-koizumi-visits-pyongyang");
  EXPECT_EQ(SortKey(first[0].event().occurred()), std::make_tuple(2002, 9, 0));
  EXPECT_EQ(first[0].event().meeting().place(), "Pyongyang");

  RunResult text =
      Annals({"timeline", "JPN-PRK", "--kind=meeting", "--limit=1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr(" 2002-09 meeting JPN>PRK "
                                  "jpn-prk-2002-09-koizumi-visits-pyongyang "));
  EXPECT_EQ(Lines(text.out).size(), 1u);
}

// The UN Security Council's meetings on the DPRK (2014-2017) were sessions
// of the Council on North Korea, which it did not attend, and Japan spoke
// at them: Japan and North Korea last met in Stockholm in May 2014, and the
// Council has no meeting with the DPRK.
TEST_F(RelationshipEndToEndTest, JapanDprkLastMetInStockholmNotAtTheUnsc) {
  const v1::GetRelationshipResponse jpn = Relationship({"JPN", "PRK"});
  EXPECT_EQ(jpn.state().last_meeting().event().event_id(),
            "jpn-prk-2014-05-26-stockholm-talks");
  const v1::GetRelationshipResponse unsc = Relationship({"PRK", "UNSC"});
  EXPECT_EQ(unsc.state().event_count(), 4u);
  EXPECT_FALSE(unsc.state().has_last_meeting());
  const std::vector<v1::TimelineEntry> spoke =
      Timeline({"JPN", "PRK", "--kind", "statement", "--tag", "un"});
  ASSERT_FALSE(spoke.empty());
  EXPECT_EQ(spoke[0].event().id(),
            "jpn-2014-2017-unsc-urges-abductions-resolution");
}

// Dates known to the month or the year are intervals: a range holds what
// lies within it, --overlapping adds what only overlaps it (marked "~"),
// --as-of counts what had certainly happened and says what might have, and
// the index says what it could not place in a month.
TEST_F(RelationshipEndToEndTest, ImpreciseDatesAreIntervalsOnTheCommandLine) {
  RunResult september = Annals(
      {"timeline", "jpn", "prk", "--from", "2002-09-01", "--to", "2002-09-30"});
  ASSERT_EQ(september.exit_code, 0) << september.err;
  EXPECT_THAT(september.out,
              HasSubstr(" jpn-prk-2002-09-koizumi-visits-pyongyang "));

  RunResult before = Annals({"timeline", "JPN-PRK", "--from", "2001-12-31",
                             "--to", "2002-09-16", "--overlapping"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  int overlapping = 0;
  for (const std::string& line : Lines(before.out)) {
    if (line.rfind("~#", 0) == 0) ++overlapping;
  }
  EXPECT_EQ(overlapping, 3) << before.out;  // the summit and two of "2002"

  RunResult october =
      Annals({"relationship", "PRK", "UNGA", "--as-of", "2018-10-31"});
  ASSERT_EQ(october.exit_code, 0) << october.err;
  EXPECT_THAT(october.out, HasSubstr("PRK-UNGA: 13 events"));
  EXPECT_THAT(october.out,
              HasSubstr("not counted: 1 event that may have happened by then"));

  RunResult listed = Annals({"relationships", "--actor", "unga"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out,
              HasSubstr("PRK-UNGA: 14 events 2005..2018, index 0.0 over "
                        "2018-01..2018-12 (0 events; 1 event of its years not "
                        "dated to one month, left out)"));
}

// As the log knew it at an earlier position: fewer events than now.
TEST_F(RelationshipEndToEndTest, AsOfAnEarlierPositionKnowsFewerEvents) {
  const v1::GetRelationshipResponse now = Relationship({"JPN", "PRK"});
  EXPECT_EQ(now.head(), Seed().size());
  const v1::GetRelationshipResponse then =
      Relationship({"JPN", "PRK", "--as-of-position", "20"});
  EXPECT_EQ(then.head(), 20u);
  EXPECT_GT(then.state().event_count(), 0);
  EXPECT_LT(then.state().event_count(), now.state().event_count());
  // Nothing of 2019 had been imported by position 20 (the seed is in
  // occurred order).
  EXPECT_LT(SortKey(then.state().last_event().occurred()),
            SortKey(now.state().last_event().occurred()));
}

TEST_F(RelationshipEndToEndTest, TagFilterReturnsExactlyTheTaggedEvents) {
  std::set<std::string> tagged;
  for (const v1::Event& event : Seed()) {
    if (Has(event.tags(), "abductions")) tagged.insert(event.id());
  }
  ASSERT_GT(tagged.size(), 10u);
  std::set<std::string> got;
  for (const v1::TimelineEntry& entry : Timeline({"--tag", "abductions"})) {
    EXPECT_TRUE(Has(entry.event().tags(), "abductions")) << entry.event().id();
    got.insert(entry.event().id());
  }
  EXPECT_EQ(got, tagged);
}

// Repeated --kind flags and a comma list are the same filter: the union.
TEST_F(RelationshipEndToEndTest, RepeatedKindFlagsAreAUnion) {
  const size_t meetings = Timeline({"JPN", "PRK", "--kind", "meeting"}).size();
  const size_t agreements =
      Timeline({"JPN", "PRK", "--kind", "agreement"}).size();
  ASSERT_GT(meetings, 0u);
  ASSERT_GT(agreements, 0u);
  EXPECT_EQ(Timeline({"JPN", "PRK", "--kind", "meeting", "--kind", "agreement"})
                .size(),
            meetings + agreements);
  EXPECT_EQ(Timeline({"JPN", "PRK", "--kind", "meeting,agreement"}).size(),
            meetings + agreements);
}

TEST_F(RelationshipEndToEndTest, DateRangeAndDescendingOrder) {
  const std::vector<v1::TimelineEntry> entries =
      Timeline({"PRK", "--from", "2018", "--to", "2019-02", "--descending"});
  ASSERT_GT(entries.size(), 2u);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto key = SortKey(entries[i].event().occurred());
    EXPECT_GE(key, std::make_tuple(2018, 0, 0)) << entries[i].event().id();
    EXPECT_LE(key, std::make_tuple(2019, 2, 31)) << entries[i].event().id();
    if (i > 0) {
      EXPECT_LE(key, SortKey(entries[i - 1].event().occurred()));
    }
  }
  // The two events of February 2019 share a date key: log order, reversed.
  EXPECT_EQ(entries[0].event().id(), "jpn-prk-2019-02-families-message-to-kim");
  EXPECT_EQ(entries[1].event().id(), "usa-prk-2019-02-hanoi-summit");
  EXPECT_GT(entries[0].position(), entries[1].position());
}

TEST_F(RelationshipEndToEndTest, RelationshipsByActivityMostRecentFirst) {
  RunResult run = Annals({"--json", "relationships", "--order", "activity"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_GT(lines.size(), 5u);
  std::set<std::string> dyads;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto summary = FromJson<v1::RelationshipSummary>(lines[i]);
    dyads.insert(summary.dyad());
    if (i == 0) continue;
    const auto previous = FromJson<v1::RelationshipSummary>(lines[i - 1]);
    EXPECT_LE(SortKey(summary.last_event().occurred()),
              SortKey(previous.last_event().occurred()))
        << summary.dyad() << " after " << previous.dyad();
  }
  EXPECT_EQ(dyads.size(), lines.size());
  EXPECT_THAT(dyads, Contains("JPN-PRK"));

  RunResult limited =
      Annals({"relationships", "--limit", "3", "--actor", "PRK"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  ASSERT_EQ(Lines(limited.out).size(), 3u) << limited.out;
  for (const std::string& line : Lines(limited.out)) {
    EXPECT_THAT(line.substr(0, line.find(':')), HasSubstr("PRK"));
  }
}

TEST_F(RelationshipEndToEndTest, UnknownActorIsInvalidArgumentNamingTheField) {
  RunResult bad = Annals({"relationship", "JPN", "XXX"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, StartsWith("INVALID_ARGUMENT: "));
  EXPECT_THAT(bad.err, HasSubstr("dyad"));
  EXPECT_THAT(bad.err, HasSubstr("XXX"));
  EXPECT_EQ(Lines(bad.err).size(), 1u);
  EXPECT_EQ(bad.out, "");
}

TEST_F(RelationshipEndToEndTest, ReversedRangeIsInvalidArgumentNamingTheField) {
  RunResult bad =
      Annals({"timeline", "JPN", "PRK", "--from", "2019", "--to", "2018"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, StartsWith("INVALID_ARGUMENT: "));
  EXPECT_THAT(bad.err, HasSubstr("to: "));
  EXPECT_EQ(Lines(bad.err).size(), 1u);
}

TEST_F(RelationshipEndToEndTest, MalformedCommandLinesAreUsageErrors) {
  RunResult date = Annals({"relationship", "JPN", "PRK", "--as-of", "2019-3"});
  EXPECT_EQ(date.exit_code, 2);
  EXPECT_THAT(date.err, HasSubstr("--as-of must be a date"));
  RunResult both = Annals({"relationship", "JPN", "PRK", "--as-of", "2019",
                           "--as-of-position", "3"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err,
              HasSubstr("at most one of --as-of and --as-of-position"));
  RunResult three = Annals({"timeline", "JPN", "PRK", "USA"});
  EXPECT_EQ(three.exit_code, 2);
  RunResult order = Annals({"relationships", "--order", "alphabetical"});
  EXPECT_EQ(order.exit_code, 2);
  EXPECT_THAT(order.err, HasSubstr("--order"));
}

TEST_F(RelationshipEndToEndTest, RebuildCheckMatches) {
  RunResult check = Annals({"admin", "rebuild", "--check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, HasSubstr("89 events replayed"));
  EXPECT_THAT(check.out, HasSubstr("matched"));
  RunResult json = Annals({"--json", "admin", "rebuild", "--check"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto report = FromJson<v1::RebuildProjectionsResponse>(json.out);
  EXPECT_TRUE(report.matched());
  EXPECT_FALSE(report.repaired());
  EXPECT_EQ(report.events(), Seed().size());
}

// --from is a string now; read still takes a position.
TEST_F(RelationshipEndToEndTest, ReadFromStillTakesAPosition) {
  RunResult read = Annals({"read", "--all", "--from", "85"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  const std::vector<std::string> lines = Lines(read.out);
  ASSERT_EQ(lines.size(), Seed().size() - 84);
  EXPECT_THAT(lines[0], StartsWith("#85 "));
  RunResult stream =
      Annals({"read", "--stream", "JPN-PRK", "--from", "2", "--limit", "1"});
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  EXPECT_THAT(stream.out, HasSubstr(" v2 "));
  RunResult word = Annals({"read", "--all", "--from", "start"});
  EXPECT_EQ(word.exit_code, 2);
  EXPECT_THAT(word.err, HasSubstr("--from"));
}

}  // namespace
}  // namespace annals
