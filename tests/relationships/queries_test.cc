// GetRelationship, ListRelationships and QueryTimeline over a log holding
// the seed timeline: answers checked by hand against the articles, both
// as-of axes, paging, filters, and the errors of bad queries.
#include "services/relationships/queries.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "services/relationships/projector.h"
#include "tests/relationships/seeded_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::GeneratedEvents;
using ::annals::testing::IsOk;
using ::annals::testing::MakeDate;
using ::annals::testing::ProjectedLog;
using ::annals::testing::ReadEverything;
using ::annals::testing::SeedEvents;
using ::annals::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

// The fields named by an INVALID_ARGUMENT status.
std::vector<std::string> Fields(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  std::vector<std::string> fields;
  for (const auto& v : rpc::FieldViolations(status)) fields.push_back(v.field);
  return fields;
}

class RelationshipQueriesTest : public ::testing::Test {
 protected:
  RelationshipQueries queries() const {
    return RelationshipQueries(&testing::SeededLog().log());
  }

  v1::RelationshipState Get(const std::string& dyad) {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    auto response = queries().GetRelationship(request);
    EXPECT_THAT(response.status(), IsOk());
    return response.ok() ? response->state() : v1::RelationshipState();
  }

  v1::RelationshipState GetAsOf(const std::string& dyad, const v1::Date& date) {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    *request.mutable_as_of_date() = date;
    auto response = queries().GetRelationship(request);
    EXPECT_THAT(response.status(), IsOk());
    return response.ok() ? response->state() : v1::RelationshipState();
  }

  // Every entry of the timeline query, following page tokens.
  std::vector<v1::TimelineEntry> Timeline(v1::QueryTimelineRequest request) {
    std::vector<v1::TimelineEntry> entries;
    for (int pages = 0; pages < 1000; ++pages) {
      auto response = queries().QueryTimeline(request);
      EXPECT_THAT(response.status(), IsOk());
      if (!response.ok()) break;
      for (const auto& entry : response->entries()) entries.push_back(entry);
      if (response->next_page_token().empty()) break;
      request.set_page_token(response->next_page_token());
    }
    return entries;
  }

  std::vector<v1::RelationshipSummary> List(v1::ListRelationshipsRequest request) {
    std::vector<v1::RelationshipSummary> all;
    for (int pages = 0; pages < 1000; ++pages) {
      auto response = queries().ListRelationships(request);
      EXPECT_THAT(response.status(), IsOk());
      if (!response.ok()) break;
      for (const auto& r : response->relationships()) all.push_back(r);
      if (response->next_page_token().empty()) break;
      request.set_page_token(response->next_page_token());
    }
    return all;
  }

};

const v1::ResolutionRecord* FindResolution(const v1::RelationshipState& state,
                                           absl::string_view body, int year) {
  for (const auto& r : state.resolutions()) {
    if (r.body() == body && r.year() == year) return &r;
  }
  return nullptr;
}

// --- Hand-checked answers from the articles ---

// The Diplomat and the Japan Times: Japan tabled the UNHRC resolution with
// the EU every year from 2008 (the seed's reading) through 2018, and
// declined to table it in March 2019.
TEST_F(RelationshipQueriesTest, JapanTabledAtTheHumanRightsCouncilUntil2018ThenDeclined) {
  const v1::RelationshipState state = Get("PRK-JPN");
  EXPECT_EQ(state.dyad(), "JPN-PRK");
  for (int year = 2008; year <= 2018; ++year) {
    const v1::ResolutionRecord* record = FindResolution(state, "UNHRC", year);
    ASSERT_NE(record, nullptr) << year;
    EXPECT_THAT(record->tabled_by(), Contains("JPN")) << year;
    // The adoption, sponsored by Japan, lands in the dyad too.
    EXPECT_EQ(record->decision(), v1::ResolutionAction::ACTION_ADOPTED) << year;
    EXPECT_THAT(record->declined_to_table(), IsEmpty()) << year;
  }
  const v1::ResolutionRecord* declined = FindResolution(state, "UNHRC", 2019);
  ASSERT_NE(declined, nullptr);
  EXPECT_THAT(declined->declined_to_table(), ElementsAre("JPN"));
  EXPECT_THAT(declined->tabled_by(), IsEmpty());
  EXPECT_EQ(FindResolution(state, "UNHRC", 2007), nullptr);
}

// Trump and Kim met in Singapore (June 2018) and Hanoi (February 2019):
// before April 2019 the last summit is Hanoi, before 2019 Singapore.
TEST_F(RelationshipQueriesTest, LastUsDprkSummitBeforeApril2019IsHanoi) {
  const v1::RelationshipState march = GetAsOf("USA-PRK", MakeDate(2019, 3, 31));
  EXPECT_EQ(march.last_meeting().event().event_id(), "usa-prk-2019-02-hanoi-summit");
  EXPECT_EQ(march.last_meeting().place(), "Hanoi");
  EXPECT_EQ(GetAsOf("USA-PRK", MakeDate(2019, 3)).last_meeting().event().event_id(),
            "usa-prk-2019-02-hanoi-summit");
  EXPECT_EQ(GetAsOf("USA-PRK", MakeDate(2018)).last_meeting().event().event_id(),
            "usa-prk-2018-06-summit");
  // Before Singapore the two last met at the Six-Party Talks.
  EXPECT_EQ(GetAsOf("USA-PRK", MakeDate(2018, 5)).last_meeting().event().event_id(),
            "six-party-2007-09-27-talks");
  EXPECT_EQ(Get("PRK-USA").leaders_meeting_count(), 2);
}

// Koizumi's visit to Pyongyang in September 2002 was the first Japan-DPRK
// summit.
TEST_F(RelationshipQueriesTest, FirstJapanDprkSummitIsSeptember2002) {
  v1::QueryTimelineRequest request;
  request.set_dyad("JPN-PRK");
  request.add_kinds("meeting");
  request.add_tags("summit");
  request.set_page_size(1);
  auto response = queries().QueryTimeline(request);
  ASSERT_THAT(response.status(), IsOk());
  ASSERT_EQ(response->entries_size(), 1);
  const v1::Event& first = response->entries(0).event();
  EXPECT_EQ(first.id(), "jpn-prk-2002-09-koizumi-visits-pyongyang");
  EXPECT_EQ(first.occurred().start().year(), 2002);
  EXPECT_EQ(first.occurred().start().month(), 9);
  EXPECT_EQ(first.meeting().place(), "Pyongyang");
  EXPECT_FALSE(response->next_page_token().empty()) << "more summits follow";
}

// --- As of an occurred date: BuildState over the events up to it ---

TEST_F(RelationshipQueriesTest, AsOfDateIsTheStateOfTheEventsUntilThen) {
  const std::vector<v1::Event>& seed = SeedEvents();
  for (const v1::Date& date : {MakeDate(2002), MakeDate(2014, 5), MakeDate(2019, 3, 13),
                               MakeDate(2019, 3, 12), MakeDate(1990)}) {
    // Certain by the date's last day: the interval ends by then.
    std::vector<v1::Event> until;
    for (const v1::Event& e : seed) {
      if (IntervalOf(e.occurred()).last <= LastDayOf(date)) until.push_back(e);
    }
    EXPECT_EQ(SerializeState(GetAsOf("JPN-PRK", date)),
              SerializeState(BuildState("JPN-PRK", until)))
        << date.ShortDebugString();
  }
  // The index of an as-of-date read ends with that month.
  v1::GetRelationshipRequest request;
  request.set_dyad("JPN-PRK");
  *request.mutable_as_of_date() = MakeDate(2019);
  auto response = queries().GetRelationship(request);
  ASSERT_THAT(response.status(), IsOk());
  EXPECT_EQ(response->index().end_year(), 2019);
  EXPECT_EQ(response->index().end_month(), 12);
}

// --- As of a log position: what the log knew then ---

// Corrections of every kind (amendments that move events between dyads or
// dates, retractions, several of one event), at every depth of the log:
// the state as of P is the state of a log of the first P events.
// With checkpoints of each dyad's state every `checkpoint_events`.
class RelationshipAsOfPositionTest
    : public ::testing::TestWithParam<uint64_t> {};

INSTANTIATE_TEST_SUITE_P(Checkpoints, RelationshipAsOfPositionTest,
                         ::testing::Values(kCheckpointEvents, 3, 16));

TEST_P(RelationshipAsOfPositionTest, AGeneratedLogWithCorrectionsEqualsItsPrefixes) {
  std::vector<v1::Event> events = GeneratedEvents(23, 3, 40, 0.15, 600);
  // The generator corrects an event right after it, in place; add
  // corrections that move events to another dyad, and several corrections
  // of one event.
  auto correct = [&events](size_t of, const std::string& id,
                           std::optional<v1::Event> amended) {
    v1::Event correction = storage::testing::MakeEvent(id, "Corrected.");
    v1::Correction* c = correction.mutable_correction();
    c->set_corrects_event_id(events[of].id());
    c->set_reason("a later report");
    if (amended.has_value()) {
      c->set_action(v1::Correction::ACTION_AMEND);
      amended->clear_id();
      *c->mutable_amended() = *amended;
    } else {
      c->set_action(v1::Correction::ACTION_RETRACT);
    }
    NormalizeEvent(&correction);
    events.push_back(correction);
  };
  std::vector<size_t> plain;
  for (size_t i = 0; i < 600; ++i) {
    if (!events[i].has_correction() &&
        (i + 1 == 600 || !events[i + 1].has_correction())) {
      plain.push_back(i);
    }
  }
  ASSERT_GT(plain.size(), 30u);
  for (int k = 0; k < 10; ++k) {  // to FRA: into a dyad of its own
    v1::Event moved = events[plain[k]];
    moved.clear_target();
    moved.add_target("FRA");
    correct(plain[k], absl::StrCat("move-", k), moved);
  }
  for (int k = 10; k < 20; ++k) {  // amended, then retracted
    v1::Event later = events[plain[k]];
    later.mutable_occurred()->mutable_start()->set_year(2024);
    correct(plain[k], absl::StrCat("amend-", k), later);
    correct(plain[k], absl::StrCat("retract-", k), std::nullopt);
  }
  for (int k = 20; k < 30; ++k) {  // retracted, then amended back in
    correct(plain[k], absl::StrCat("retract-", k), std::nullopt);
    correct(plain[k], absl::StrCat("restore-", k), events[plain[k]]);
  }
  ProjectedLog log(GetParam());
  log.Append(events, 40);
  ASSERT_EQ(log.log().GetHead().position, events.size());
  std::set<std::string> dyads;
  int corrections = 0;
  for (const v1::Event& e : events) {
    if (e.has_correction()) ++corrections;
    for (const std::string& d : DyadsOf(e)) dyads.insert(d);
    for (const std::string& d : DyadsOf(e.correction().amended())) {
      dyads.insert(d);
    }
  }
  ASSERT_GT(corrections, 20);
  const RelationshipQueries queries(&log.log());
  auto as_of = [&queries](const std::string& dyad, uint64_t position) {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    request.set_as_of_position(position);
    return queries.GetRelationship(request);
  };
  for (const size_t position : {size_t{1}, size_t{97}, size_t{250}, size_t{421},
                                size_t{600}, size_t{605}, size_t{615},
                                size_t{632}, events.size()}) {
    ProjectedLog prefix;
    prefix.Append(std::vector<v1::Event>(events.begin(), events.begin() + position),
                  40);
    for (const std::string& dyad : dyads) {
      auto response = as_of(dyad, position);
      ASSERT_THAT(response.status(), IsOk());
      v1::GetRelationshipRequest request;
      request.set_dyad(dyad);
      auto expected = RelationshipQueries(&prefix.log()).GetRelationship(request);
      ASSERT_THAT(expected.status(), IsOk());
      EXPECT_EQ(SerializeState(response->state()),
                SerializeState(expected->state()))
          << dyad << " at " << position;
    }
  }
  // Every fifth position, against BuildState over the effective events of
  // the log up to it: the window after each checkpoint, wherever it ends.
  const std::vector<v1::RecordedEvent> recorded = ReadEverything(log.log());
  ASSERT_EQ(recorded.size(), events.size());
  for (size_t position = 0; position <= recorded.size(); position += 5) {
    const std::vector<v1::Event> effective = EffectiveEvents(
        std::vector<v1::RecordedEvent>(recorded.begin(),
                                       recorded.begin() + position));
    for (const std::string& dyad : dyads) {
      auto response = as_of(dyad, position);
      ASSERT_THAT(response.status(), IsOk());
      ASSERT_EQ(SerializeState(response->state()),
                SerializeState(BuildState(dyad, effective)))
          << dyad << " at " << position;
    }
  }
}

TEST(RelationshipAsOfPositionSeedTest, EqualsALogThatStoppedThere) {
  ProjectedLog log;
  const std::vector<v1::Event>& seed = SeedEvents();
  log.Append(seed, 3);
  // Amend the Hanoi summit afterwards: earlier positions must not see it.
  v1::Event hanoi;
  for (const v1::Event& e : seed) {
    if (e.id() == "usa-prk-2019-02-hanoi-summit") hanoi = e;
  }
  v1::Event amended = hanoi;
  amended.clear_id();
  amended.mutable_meeting()->set_place("Hanoi, Metropole hotel");
  v1::Event correction = storage::testing::MakeEvent("fix-hanoi", "Venue.");
  correction.mutable_correction()->set_corrects_event_id(hanoi.id());
  correction.mutable_correction()->set_action(v1::Correction::ACTION_AMEND);
  correction.mutable_correction()->set_reason("venue added");
  *correction.mutable_correction()->mutable_amended() = amended;
  NormalizeEvent(&correction);
  log.Append({correction});

  const RelationshipQueries queries(&log.log());
  for (uint64_t position : {uint64_t{0}, uint64_t{1}, uint64_t{40}, uint64_t{77},
                            uint64_t{seed.size()}}) {
    ProjectedLog prefix;
    prefix.Append(std::vector<v1::Event>(seed.begin(), seed.begin() + position));
    for (const std::string dyad : {"JPN-PRK", "PRK-USA", "EU-PRK"}) {
      v1::GetRelationshipRequest request;
      request.set_dyad(dyad);
      request.set_as_of_position(position);
      auto response = queries.GetRelationship(request);
      ASSERT_THAT(response.status(), IsOk());
      EXPECT_EQ(response->head(), position);
      auto expected = RelationshipQueries(&prefix.log()).GetRelationship(
          [&] { v1::GetRelationshipRequest r; r.set_dyad(dyad); return r; }());
      ASSERT_THAT(expected.status(), IsOk());
      EXPECT_EQ(SerializeState(response->state()), SerializeState(expected->state()))
          << dyad << " at " << position;
    }
  }
  v1::GetRelationshipRequest request;
  request.set_dyad("USA-PRK");
  request.set_as_of_position(seed.size());
  auto before = queries.GetRelationship(request);
  ASSERT_THAT(before.status(), IsOk());
  EXPECT_EQ(before->state().last_meeting().place(), "Hanoi");
  request.set_as_of_position(seed.size() + 1);
  auto after = queries.GetRelationship(request);
  ASSERT_THAT(after.status(), IsOk());
  EXPECT_EQ(after->state().last_meeting().place(), "Hanoi, Metropole hotel");
  request.clear_as_of();
  auto now = queries.GetRelationship(request);
  ASSERT_THAT(now.status(), IsOk());
  EXPECT_EQ(SerializeState(now->state()), SerializeState(after->state()));
}

// --- Listing ---

TEST_F(RelationshipQueriesTest, ListsEveryDyadOnceByRecentActivity) {
  std::set<std::string> dyads;
  for (const v1::Event& e : SeedEvents()) {
    for (const std::string& d : DyadsOf(e)) dyads.insert(d);
  }
  v1::ListRelationshipsRequest request;
  request.set_page_size(4);
  const auto listed = List(request);
  std::set<std::string> seen;
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_TRUE(seen.insert(listed[i].dyad()).second) << listed[i].dyad();
    EXPECT_EQ(listed[i].event_count(), Get(listed[i].dyad()).event_count());
    if (i > 0) {
      EXPECT_GE(IntervalOf(listed[i - 1].last_event().occurred()).first,
                IntervalOf(listed[i].last_event().occurred()).first);
    }
  }
  EXPECT_EQ(seen, dyads);

  request.set_ascending(true);
  auto ascending = List(request);
  std::reverse(ascending.begin(), ascending.end());
  ASSERT_EQ(ascending.size(), listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(ascending[i].dyad(), listed[i].dyad());
  }
}

TEST_F(RelationshipQueriesTest, ListsByIndexAndByActor) {
  v1::ListRelationshipsRequest request;
  request.set_order_by(v1::ListRelationshipsRequest::ORDER_BY_INDEX);
  request.set_page_size(5);
  const auto by_index = List(request);
  ASSERT_GT(by_index.size(), 5u);
  for (size_t i = 1; i < by_index.size(); ++i) {
    EXPECT_GE(by_index[i - 1].index().mean_tenths(), by_index[i].index().mean_tenths());
  }
  request.set_actor("PRK");
  const auto prk = List(request);
  ASSERT_FALSE(prk.empty());
  for (const auto& r : prk) EXPECT_THAT(r.dyad(), ::testing::HasSubstr("PRK"));
  EXPECT_LT(prk.size(), by_index.size());
}

// --- Timeline ---

TEST_F(RelationshipQueriesTest, WholeLogTimelinePagesInOccurredOrder) {
  v1::QueryTimelineRequest request;
  request.set_page_size(7);
  const auto entries = Timeline(request);
  ASSERT_EQ(entries.size(), SeedEvents().size());
  std::set<std::string> ids;
  for (size_t i = 0; i < entries.size(); ++i) {
    ids.insert(entries[i].event().id());
    EXPECT_EQ(entries[i].stream(), "test");
    EXPECT_EQ(entries[i].amended_at(), 0u);
    if (i > 0) {
      EXPECT_LE(IntervalOf(entries[i - 1].event().occurred()),
                IntervalOf(entries[i].event().occurred()));
    }
  }
  EXPECT_EQ(ids.size(), entries.size());

  request.set_descending(true);
  auto descending = Timeline(request);
  std::reverse(descending.begin(), descending.end());
  ASSERT_EQ(descending.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(descending[i].position(), entries[i].position());
  }
}

TEST_F(RelationshipQueriesTest, TimelineFiltersByKindTagRangeTextAndActor) {
  v1::QueryTimelineRequest request;
  request.set_dyad("JPN-PRK");
  request.add_kinds("resolution");
  *request.mutable_from() = MakeDate(2018);
  *request.mutable_to() = MakeDate(2019, 6);
  std::vector<std::string> ids;
  for (const auto& e : Timeline(request)) ids.push_back(e.event().id());
  // The adoptions Japan sponsored are in the dyad too (DyadsOf).
  // Same date key ("2018"): in log order.
  EXPECT_THAT(ids, ElementsAre("unhrc-2018-jpn-eu-table-dprk-human-rights",
                               "unga-2018-adopts-dprk-human-rights",
                               "unhrc-2018-adopts-dprk-human-rights",
                               "unhrc-2019-03-13-jpn-declines-to-table"));

  v1::QueryTimelineRequest tagged;
  tagged.add_tags("six-party-talks");
  const auto six_party = Timeline(tagged);
  EXPECT_EQ(six_party.size(), 5u);
  for (const auto& e : six_party) {
    EXPECT_THAT(e.event().tags(), Contains("six-party-talks"));
  }

  v1::QueryTimelineRequest text;
  text.set_actor("RUS");
  text.set_text("VLADIVOSTOK");
  const auto vladivostok = Timeline(text);
  ASSERT_FALSE(vladivostok.empty());
  for (const auto& e : vladivostok) {
    EXPECT_THAT(absl::AsciiStrToLower(e.event().summary()),
                ::testing::HasSubstr("vladivostok"));
  }

  // An actor's timeline holds events with no dyad too (a single actor).
  v1::QueryTimelineRequest unga;
  unga.set_actor("UNGA");
  EXPECT_EQ(Timeline(unga).size(), 14u);
}

TEST_F(RelationshipQueriesTest, SelectiveFilterReturnsShortPagesWithTokens) {
  // Nothing matches: every page is empty but the scan still finishes.
  v1::QueryTimelineRequest request;
  request.set_text("no event says this");
  EXPECT_THAT(Timeline(request), IsEmpty());
}

// --- Bad queries ---

TEST_F(RelationshipQueriesTest, BadQueriesNameTheField) {
  v1::GetRelationshipRequest get;
  get.set_dyad("JPN-XXX");
  EXPECT_THAT(Fields(queries().GetRelationship(get).status()), ElementsAre("dyad"));
  get.set_dyad("JPN");
  EXPECT_THAT(Fields(queries().GetRelationship(get).status()), ElementsAre("dyad"));
  get.set_dyad("JPN-JPN");
  EXPECT_THAT(Fields(queries().GetRelationship(get).status()), ElementsAre("dyad"));
  get.set_dyad("JPN-PRK");
  get.set_as_of_position(1000000);
  EXPECT_THAT(Fields(queries().GetRelationship(get).status()),
              ElementsAre("as_of_position"));
  *get.mutable_as_of_date() = MakeDate(2019, 2, 30);
  EXPECT_THAT(Fields(queries().GetRelationship(get).status()),
              ElementsAre("as_of_date.day"));

  v1::QueryTimelineRequest timeline;
  timeline.set_dyad("JPN-PRK");
  *timeline.mutable_from() = MakeDate(2019);
  *timeline.mutable_to() = MakeDate(2018);
  EXPECT_THAT(Fields(queries().QueryTimeline(timeline).status()), ElementsAre("to"));
  timeline.clear_to();
  timeline.add_kinds("summit");
  timeline.set_actor("PRK");
  timeline.set_page_size(-1);
  EXPECT_THAT(Fields(queries().QueryTimeline(timeline).status()),
              ElementsAre("page_size", "actor", "kinds[0]"));

  v1::QueryTimelineRequest paged;
  paged.set_page_size(2);
  auto first = queries().QueryTimeline(paged);
  ASSERT_THAT(first.status(), IsOk());
  paged.set_page_token("not a token");
  EXPECT_THAT(Fields(queries().QueryTimeline(paged).status()),
              ElementsAre("page_token"));
  paged.set_page_token(first->next_page_token());
  paged.set_descending(true);  // another query
  EXPECT_THAT(Fields(queries().QueryTimeline(paged).status()),
              ElementsAre("page_token"));
  paged.set_descending(false);
  paged.set_page_size(5);  // page_size may change between pages
  EXPECT_THAT(queries().QueryTimeline(paged).status(), IsOk());

  v1::ListRelationshipsRequest list;
  list.set_actor("ZZZ");
  EXPECT_THAT(Fields(queries().ListRelationships(list).status()),
              ElementsAre("actor"));
  list.clear_actor();
  list.set_page_token(first->next_page_token());  // a timeline's token
  EXPECT_THAT(Fields(queries().ListRelationships(list).status()),
              ElementsAre("page_token"));
}

TEST_F(RelationshipQueriesTest, DyadWithoutEventsIsAnEmptyState) {
  const v1::RelationshipState state = Get("FRA-PRK");
  EXPECT_EQ(state.dyad(), "FRA-PRK");
  EXPECT_EQ(state.event_count(), 0);
}

}  // namespace
}  // namespace annals::services
