// The seed timeline (deploy/seed/timeline.jsonl): the diplomatic events
// extracted from the five seed articles. It parses, every event passes the
// server's validation, ids are unique and distinct from the examples', every
// event cites one of the articles, and a few hand-checked facts hold.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "clients/cli/event_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/validation.h"

namespace annals {
namespace {

using ::testing::IsEmpty;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The events of `path`; a parse error fails the test, naming the line.
std::vector<v1::Event> ReadEvents(const std::string& path) {
  auto events = ParseEvents(ReadFile(path));
  EXPECT_TRUE(events.ok()) << path << ": " << events.status();
  if (!events.ok()) return {};
  return *std::move(events);
}

const std::vector<v1::Event>& Seed() {
  static const auto* const events =
      new std::vector<v1::Event>(ReadEvents(SEED_FILE));
  return *events;
}

// The events of clients/examples: events.jsonl, then the single event file.
const std::vector<v1::Event>& Examples() {
  static const auto* const events = [] {
    auto* all = new std::vector<v1::Event>(
        ReadEvents(absl::StrCat(EXAMPLES_DIR, "/events.jsonl")));
    const std::vector<v1::Event> talks = ReadEvents(
        absl::StrCat(EXAMPLES_DIR, "/secret_talks_2001_2002.json"));
    all->insert(all->end(), talks.begin(), talks.end());
    return all;
  }();
  return *events;
}

// The five seed articles, cited with the same publisher and title strings as
// clients/examples cites them (the Diplomat's 2014 Tokyo Report by its
// headline).
const std::set<std::pair<std::string, std::string>>& Articles() {
  static const auto* const articles =
      new std::set<std::pair<std::string, std::string>>{
          {"The Diplomat",
           "Japan decides against tabling UN resolution on North Korea's "
           "human rights record (descriptive title)"},
          {"The Japan Times (Kyodo)",
           "Japan will not join submission of U.N. draft resolution "
           "condemning North Korea's human rights abuses for first time since "
           "2007 (descriptive title)"},
          {"Ministry of Foreign Affairs of Japan",
           "Japan-North Korea Relations: Efforts by the International "
           "Community"},
          {"The Diplomat", "Pragmatism Returns to Japan's North Korea Policy"},
          {"The Japan News (The Yomiuri Shimbun)",
           "Abe's diplomacy for Osaka G20 (2) / A time to be patient for "
           "dialogue with North Korea"},
      };
  return *articles;
}

bool Has(const google::protobuf::RepeatedPtrField<std::string>& list,
         absl::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

// True when `e` involves both `a` and `b` (as source or target).
bool Involves(const v1::Event& e, absl::string_view a, absl::string_view b) {
  auto in = [&](absl::string_view c) {
    return Has(e.source(), c) || Has(e.target(), c);
  };
  return in(a) && in(b);
}

bool StartsIn(const v1::Event& e, int year, int month) {
  return e.occurred().start().year() == year &&
         e.occurred().start().month() == month;
}

std::string Describe(const v1::Event& e) {
  return absl::StrCat(e.id(), " (", KindName(e), ", ",
                      FormatOccurred(e.occurred()), ")");
}

TEST(SeedTest, ParsesAndHasAtLeastSixtyEvents) {
  EXPECT_GE(Seed().size(), 60u);
}

TEST(SeedTest, EveryEventIsValid) {
  for (size_t i = 0; i < Seed().size(); ++i) {
    const v1::Event& event = Seed()[i];
    std::vector<rpc::FieldViolation> violations;
    services::ValidateEvent(event, absl::StrCat("line ", i + 1), &violations);
    for (const rpc::FieldViolation& v : violations) {
      ADD_FAILURE() << event.id() << ": " << v.field << ": " << v.description;
    }
  }
}

TEST(SeedTest, IdsAreUniqueAndDistinctFromTheExamples) {
  absl::flat_hash_map<std::string, size_t> line_of;
  for (size_t i = 0; i < Seed().size(); ++i) {
    auto [it, inserted] = line_of.try_emplace(Seed()[i].id(), i + 1);
    EXPECT_TRUE(inserted) << "id " << Seed()[i].id() << " on line " << i + 1
                          << " repeats line " << it->second;
  }
  const std::vector<v1::Event>& examples = Examples();
  EXPECT_THAT(examples, ::testing::Not(IsEmpty()));
  for (const v1::Event& example : examples) {
    EXPECT_FALSE(line_of.contains(example.id()))
        << "seed line " << line_of[example.id()] << " reuses the example id "
        << example.id();
  }
}

TEST(SeedTest, EveryEventCitesOneOfTheArticles) {
  absl::flat_hash_set<std::string> publishers;
  for (const auto& [publisher, title] : Articles()) publishers.insert(publisher);
  std::set<std::pair<std::string, std::string>> cited;
  for (const v1::Event& event : Seed()) {
    bool cites_article = false;
    for (const v1::Source& source : event.sources()) {
      cites_article = cites_article || publishers.contains(source.publisher());
      const std::pair<std::string, std::string> key{source.publisher(),
                                                    source.title()};
      EXPECT_TRUE(Articles().contains(key))
          << event.id() << " cites \"" << source.publisher() << "\", \""
          << source.title() << "\", which is none of the seed articles";
      cited.insert(key);
    }
    EXPECT_TRUE(cites_article) << event.id();
  }
  EXPECT_EQ(cited, Articles()) << "every article contributes events";
}

TEST(SeedTest, CitationsMatchTheExamples) {
  // The examples cite the articles with the same strings as the seed.
  for (const v1::Event& e : Examples()) {
    for (const v1::Source& s : e.sources()) {
      EXPECT_TRUE(Articles().contains({s.publisher(), s.title()}))
          << e.id() << " cites \"" << s.publisher() << "\", \"" << s.title()
          << "\", which is none of the seed articles";
    }
  }
}

TEST(SeedTest, JapanDeclinedToTableAtTheHumanRightsCouncilInMarch2019) {
  int found = 0;
  for (const v1::Event& e : Seed()) {
    if (e.has_resolution() && e.resolution().body() == "UNHRC" &&
        e.resolution().action() ==
            v1::ResolutionAction::ACTION_DECLINED_TO_TABLE &&
        Has(e.source(), "JPN") && Has(e.target(), "PRK") &&
        StartsIn(e, 2019, 3)) {
      ++found;
      EXPECT_EQ(e.occurred().start().day(), 13) << Describe(e);
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(SeedTest, FirstJapanNorthKoreaSummitIsSeptember2002) {
  std::vector<const v1::Event*> summits;
  for (const v1::Event& e : Seed()) {
    if (e.has_meeting() && e.meeting().type() == v1::Meeting::TYPE_SUMMIT &&
        Involves(e, "JPN", "PRK")) {
      summits.push_back(&e);
    }
  }
  ASSERT_THAT(summits, ::testing::Not(IsEmpty()));
  const v1::Event* first = *std::min_element(
      summits.begin(), summits.end(), [](const v1::Event* a, const v1::Event* b) {
        const auto& x = a->occurred().start();
        const auto& y = b->occurred().start();
        return std::make_tuple(x.year(), x.month(), x.day()) <
               std::make_tuple(y.year(), y.month(), y.day());
      });
  EXPECT_TRUE(StartsIn(*first, 2002, 9)) << Describe(*first);
  // The article gives the month only.
  EXPECT_EQ(first->occurred().start().day(), 0) << Describe(*first);
  EXPECT_EQ(first->meeting().place(), "Pyongyang");
}

TEST(SeedTest, UsNorthKoreaSummitInHanoiInFebruary2019) {
  int found = 0;
  for (const v1::Event& e : Seed()) {
    if (e.has_meeting() && e.meeting().type() == v1::Meeting::TYPE_SUMMIT &&
        Involves(e, "USA", "PRK") && e.meeting().place() == "Hanoi" &&
        StartsIn(e, 2019, 2)) {
      ++found;
      EXPECT_EQ(e.meeting().outcome(), v1::Meeting::OUTCOME_NO_AGREEMENT);
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(SeedTest, RussiaNorthKoreaSummitInVladivostokInApril2019) {
  int found = 0;
  for (const v1::Event& e : Seed()) {
    if (e.has_meeting() && e.meeting().type() == v1::Meeting::TYPE_SUMMIT &&
        Involves(e, "RUS", "PRK") && e.meeting().place() == "Vladivostok" &&
        StartsIn(e, 2019, 4)) {
      ++found;
      EXPECT_EQ(e.occurred().start().day(), 25);
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(SeedTest, StockholmTalksSpanMay26To28) {
  int found = 0;
  for (const v1::Event& e : Seed()) {
    if (e.has_meeting() && e.meeting().place() == "Stockholm") {
      ++found;
      EXPECT_TRUE(Involves(e, "JPN", "PRK"));
      EXPECT_EQ(FormatOccurred(e.occurred()), "2014-05-26..2014-05-28");
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(SeedTest, HumanRightsResolutionsYearByYear) {
  // MOFA, as of October 2018: adopted at the Human Rights Council 11 times
  // for 11 consecutive years, at the General Assembly 13 times for 13
  // consecutive years; The Diplomat: the General Assembly again in 2018.
  std::set<int> unhrc;
  std::set<int> unga;
  for (const v1::Event& e : Seed()) {
    if (!e.has_resolution() ||
        e.resolution().action() != v1::ResolutionAction::ACTION_ADOPTED) {
      continue;
    }
    EXPECT_TRUE(Has(e.source(), e.resolution().body())) << Describe(e);
    EXPECT_TRUE(Has(e.target(), "PRK")) << Describe(e);
    const int year = e.occurred().start().year();
    if (e.resolution().body() == "UNHRC") {
      EXPECT_TRUE(unhrc.insert(year).second) << Describe(e);
    }
    if (e.resolution().body() == "UNGA") {
      EXPECT_TRUE(unga.insert(year).second) << Describe(e);
    }
  }
  std::set<int> expected_unhrc;
  for (int y = 2008; y <= 2018; ++y) expected_unhrc.insert(y);
  std::set<int> expected_unga;
  for (int y = 2005; y <= 2018; ++y) expected_unga.insert(y);
  EXPECT_EQ(unhrc, expected_unhrc);
  EXPECT_EQ(unga, expected_unga);
}

// A meeting of an international body about a country is a session of the
// body (source: the body alone), not a meeting of its members with the
// country.
TEST(SeedTest, MeetingsOfABodyOnACountryAreSessionsOfTheBodyAlone) {
  int sessions = 0;
  for (const v1::Event& e : Seed()) {
    if (!e.has_meeting()) continue;
    const bool of_a_body =
        Has(e.source(), "UNSC") || Has(e.source(), "UNHRC") ||
        Has(e.source(), "UNGA");
    if (!of_a_body) continue;
    ++sessions;
    EXPECT_EQ(e.meeting().type(), v1::Meeting::TYPE_SESSION) << Describe(e);
    EXPECT_EQ(e.source_size(), 1) << Describe(e);
  }
  EXPECT_EQ(sessions, 5);  // UNSC 2014-2017, UNHRC February 2019
}

TEST(SeedTest, HumanRightsCouncilSessionOpenedOn25February2019) {
  const v1::Event* opened = nullptr;
  for (const v1::Event& e : Seed()) {
    if (e.id() == "unhrc-2019-02-25-session-opens") opened = &e;
  }
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(opened->meeting().type(), v1::Meeting::TYPE_SESSION);
  EXPECT_EQ(opened->occurred().start().day(), 25);
  EXPECT_EQ(opened->occurred().start().month(), 2);
  EXPECT_EQ(opened->sources(0).publisher(), "The Japan Times (Kyodo)");
}

TEST(SeedTest, CommissionOfInquiryResolutionWasAdoptedWithoutAVote) {
  int found = 0;
  for (const v1::Event& e : Seed()) {
    if (e.has_resolution() && e.resolution().body() == "UNHRC" &&
        e.resolution().action() == v1::ResolutionAction::ACTION_ADOPTED &&
        StartsIn(e, 2013, 3)) {
      ++found;
      EXPECT_EQ(e.resolution().adoption(),
                v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
    }
  }
  EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace annals
