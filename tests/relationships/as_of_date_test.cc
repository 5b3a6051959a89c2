// GetRelationship as of an occurred date over a generated log: the answer
// is BuildState over the effective events that ended by the date, whether
// the years before it come from kept partial states or are folded again;
// a kept partial serves only while nothing changed its year, and only on
// the history it was computed on.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "services/relationships/as_of.h"
#include "services/relationships/queries.h"
#include "storage/format.h"
#include "tests/relationships/seeded_log.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::AllDyads;
using ::annals::testing::GeneratedEvents;
using ::annals::testing::IsOk;
using ::annals::testing::MakeCorrection;
using ::annals::testing::MakeDate;
using ::annals::testing::ProjectedLog;
using ::annals::testing::ReadEverything;
namespace format = storage::format;

// The effective events of everything `log` holds.
std::vector<v1::Event> EffectiveOf(storage::EventLog& log) {
  return EffectiveEvents(ReadEverything(log));
}

// Dates of every precision through the generator's years (1990-2025) and
// around them.
std::vector<v1::Date> Dates() {
  std::vector<v1::Date> dates = {MakeDate(1989), MakeDate(1990, 1, 1),
                                 MakeDate(1995), MakeDate(2000, 12, 31),
                                 MakeDate(2001, 1, 1), MakeDate(2030)};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 12; ++i) {
    dates.push_back(MakeDate(1990 + static_cast<int>(rng() % 36),
                             static_cast<int>(rng() % 13),
                             0));
    dates.push_back(MakeDate(1990 + static_cast<int>(rng() % 36),
                             1 + static_cast<int>(rng() % 12),
                             1 + static_cast<int>(rng() % 28)));
  }
  return dates;
}

// Every dyad at every date of Dates() against BuildState over the events
// that ended by the date, and the count of those that had started but not
// ended.
void ExpectAnswersAreTheFold(storage::EventLog& log) {
  const std::vector<v1::Event> effective = EffectiveOf(log);
  const RelationshipQueries queries(&log);
  for (const std::string& dyad : AllDyads(effective)) {
    for (const v1::Date& date : Dates()) {
      const DayKey last_day = LastDayOf(date);
      std::vector<v1::Event> ended;
      int64_t uncertain = 0;
      for (const v1::Event& e : effective) {
        const std::vector<std::string> dyads = DyadsOf(e);
        if (std::find(dyads.begin(), dyads.end(), dyad) == dyads.end()) continue;
        const DayInterval days = IntervalOf(e.occurred());
        if (days.last <= last_day) {
          ended.push_back(e);
        } else if (days.first <= last_day) {
          ++uncertain;
        }
      }
      v1::GetRelationshipRequest request;
      request.set_dyad(dyad);
      *request.mutable_as_of_date() = date;
      auto response = queries.GetRelationship(request);
      ASSERT_THAT(response.status(), IsOk());
      ASSERT_EQ(SerializeState(response->state()),
                SerializeState(BuildState(dyad, ended)))
          << dyad << " as of " << date.ShortDebugString();
      EXPECT_EQ(response->uncertain_event_count(), uncertain)
          << dyad << " as of " << date.ShortDebugString();
    }
  }
}

// The kept partials of `dyad`, year and month ones, by key.
std::map<std::string, std::string> Partials(storage::EventLog& log,
                                            const std::string& dyad) {
  std::map<std::string, std::string> kept;
  EXPECT_THAT(log.ScanCache(dyad + std::string(1, '\0'),
                            [&kept](absl::string_view key, absl::string_view value) {
                              kept.emplace(key, value);
                              return true;
                            }),
              IsOk());
  return kept;
}

TEST(RelationshipAsOfDateTest, LateEventsAndCorrectionsAfterPartialsWereKept) {
  const std::vector<v1::Event> events = GeneratedEvents(41, 3, 40, 0.1, 1600);
  ProjectedLog log;
  log.Append(std::vector<v1::Event>(events.begin(), events.begin() + 800), 40);
  ExpectAnswersAreTheFold(log.log());  // folds every year, keeps them
  const std::string dyad = *AllDyads(events).begin();
  ASSERT_GT(Partials(log.log(), dyad).size(), 20u);
  ExpectAnswersAreTheFold(log.log());  // from the kept year partials
  // And with month partials of every year.
  const std::set<std::string> dyads = AllDyads(events);
  auto keep_months = [&log, &dyads] {
    for (const std::string& d : dyads) {
      ASSERT_THAT(KeepPartials(log.log(), d, /*month_partial_events=*/1).status(),
                  IsOk());
    }
  };
  keep_months();
  ASSERT_GT(Partials(log.log(), dyad).size(), 100u);
  ExpectAnswersAreTheFold(log.log());

  // Events of every year after that (the generator's dates are random),
  // and corrections that move an event to another year, retract one, and
  // move one into another dyad.
  std::vector<v1::Event> later(events.begin() + 800, events.end());
  std::vector<const v1::Event*> plain;
  for (size_t i = 0; i < 800; ++i) {
    if (!events[i].has_correction()) plain.push_back(&events[i]);
  }
  for (int k = 0; k < 30; ++k) {
    v1::Event amended = *plain[k];
    amended.mutable_occurred()->mutable_start()->set_year(1990 + k);
    amended.mutable_occurred()->clear_end();
    later.push_back(
        MakeCorrection(absl::StrCat("year-", k), plain[k]->id(), &amended));
  }
  for (int k = 30; k < 40; ++k) {
    later.push_back(
        MakeCorrection(absl::StrCat("retract-", k), plain[k]->id(), nullptr));
  }
  for (int k = 40; k < 50; ++k) {
    v1::Event moved = *plain[k];
    moved.clear_target();
    moved.add_target("FRA");
    later.push_back(
        MakeCorrection(absl::StrCat("move-", k), plain[k]->id(), &moved));
  }
  log.Append(later, 40);
  ExpectAnswersAreTheFold(log.log());  // stale months and years folded
  keep_months();
  ExpectAnswersAreTheFold(log.log());
  // And after a reopen, from what was kept.
  log.Reopen();
  ExpectAnswersAreTheFold(log.log());
}

TEST(RelationshipAsOfDateTest, AKeptPartialServesOnlyTheHistoryItWasComputedOn) {
  ProjectedLog log;
  log.Append(GeneratedEvents(43, 1, 40, 0.0, 300), 30);
  const std::string dyad = *AllDyads(EffectiveOf(log.log())).begin();
  ASSERT_THAT(KeepPartials(log.log(), dyad, /*month_partial_events=*/1).status(),
              IsOk());
  const std::map<std::string, std::string> kept = Partials(log.log(), dyad);
  ASSERT_FALSE(kept.empty());
  // An empty state where each partial was: with the position and hash it
  // was computed at, the query takes it (and so answers wrong); with
  // another hash at that position (a history lost in a crash and written
  // again), it folds the year again.
  v1::RelationshipState empty;
  empty.set_dyad(dyad);
  auto forge = [&](bool same_hash) {
    for (const auto& [key, value] : kept) {
      std::string forged = value.substr(0, 8);
      forged.append(same_hash ? value.substr(8, format::kHashSize)
                              : std::string(format::kHashSize, 'x'));
      forged.append(SerializeState(empty));
      ASSERT_THAT(log.log().KeepCache(key, forged, log.log().CacheEpoch()),
                  IsOk());
    }
  };
  const RelationshipQueries queries(&log.log());
  forge(/*same_hash=*/true);
  // Every earlier year, and the months before December of 2025 (the
  // generator's last year): only December's events are folded.
  for (const v1::Date& date : {MakeDate(2030), MakeDate(2025, 12, 31)}) {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    *request.mutable_as_of_date() = date;
    auto taken = queries.GetRelationship(request);
    ASSERT_THAT(taken.status(), IsOk());
    int64_t december = 0;
    for (const v1::Event& e : EffectiveOf(log.log())) {
      const DayInterval days = IntervalOf(e.occurred());
      if (date.year() == 2025 && days.last >= 20251201 && days.last <= 20251231) {
        ++december;
      }
    }
    EXPECT_EQ(taken->state().event_count(), december)
        << "the kept partials were read as of " << date.ShortDebugString();
  }
  forge(/*same_hash=*/false);
  ExpectAnswersAreTheFold(log.log());
}

// The years before a date come from one through partial while none of
// them changed after it was kept; an event added to any of them makes the
// query merge their year partials again, and keep that merge instead.
TEST(RelationshipAsOfDateTest, AThroughPartialServesTheEarlierYearsUntilOneChanges) {
  const std::vector<v1::Event> events = GeneratedEvents(59, 1, 40, 0.0, 400);
  ProjectedLog log;
  log.Append(events, 40);
  const std::string dyad = DyadsOf(events[0]).front();
  ASSERT_THAT(KeepPartials(log.log(), dyad).status(), IsOk());
  const std::string key = format::YearKey(dyad, format::kThroughPartialTag, 2019);
  const std::map<std::string, std::string> kept = Partials(log.log(), dyad);
  ASSERT_TRUE(kept.contains(key)) << "every year with events has one";
  // Forged as the empty state at the position and hash it was kept at,
  // the answer as of 2020 is 2020's events alone.
  v1::RelationshipState empty;
  empty.set_dyad(dyad);
  std::string forged = kept.at(key).substr(0, 8 + format::kHashSize);
  forged.append(SerializeState(empty));
  ASSERT_THAT(log.log().KeepCache(key, forged, log.log().CacheEpoch()), IsOk());
  auto as_of_2020 = [&log, &dyad] {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    *request.mutable_as_of_date() = MakeDate(2020);
    return RelationshipQueries(&log.log()).GetRelationship(request);
  };
  int64_t in_2020 = 0;
  for (const v1::Event& e : EffectiveOf(log.log())) {
    const std::vector<std::string> dyads = DyadsOf(e);
    const DayInterval days = IntervalOf(e.occurred());
    if (std::find(dyads.begin(), dyads.end(), dyad) != dyads.end() &&
        days.last >= 20200101 && days.last <= 20201231) {
      ++in_2020;
    }
  }
  auto taken = as_of_2020();
  ASSERT_THAT(taken.status(), IsOk());
  EXPECT_EQ(taken->state().event_count(), in_2020);
  // An event of 1995: the forged partial is no longer current.
  v1::Event late = events[0];
  late.set_id("late-1995");
  late.mutable_occurred()->mutable_start()->set_year(1995);
  late.mutable_occurred()->clear_end();
  log.Append({late}, 1);
  auto again = as_of_2020();
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_GT(again->state().event_count(), in_2020);
  EXPECT_NE(Partials(log.log(), dyad).at(key), forged);
  ExpectAnswersAreTheFold(log.log());
}

TEST(RelationshipAsOfDateTest, ARepairDropsTheKeptPartials) {
  ProjectedLog log;
  log.Append(GeneratedEvents(47, 1, 40, 0.0, 200), 20);
  ExpectAnswersAreTheFold(log.log());
  const std::string dyad = *AllDyads(EffectiveOf(log.log())).begin();
  ASSERT_FALSE(Partials(log.log(), dyad).empty());
  // A check leaves them (they are no projection); a repair drops them
  // with the projections they were derived from.
  auto checked = log.log().RebuildProjections(/*repair=*/false);
  ASSERT_THAT(checked.status(), IsOk());
  EXPECT_TRUE(checked->matched());
  EXPECT_FALSE(Partials(log.log(), dyad).empty());
  ASSERT_THAT(log.log().RebuildProjections(/*repair=*/true).status(), IsOk());
  EXPECT_TRUE(Partials(log.log(), dyad).empty());
  ExpectAnswersAreTheFold(log.log());
}

// A reader that folded a partial from the projections a repair replaced
// (it read them before the repair ended) does not keep it after: its
// epoch is gone, so the stale partial cannot pass for current.
TEST(RelationshipAsOfDateTest, APartialFoldedBeforeARepairIsNotKeptAfterIt) {
  ProjectedLog log;
  log.Append(GeneratedEvents(53, 1, 40, 0.0, 200), 20);
  const std::string dyad = *AllDyads(EffectiveOf(log.log())).begin();
  const uint64_t before = log.log().CacheEpoch();
  EXPECT_EQ(before % 2, 0u) << "no repair runs";
  ASSERT_THAT(KeepPartials(log.log(), dyad, /*month_partial_events=*/1).status(),
              IsOk());
  const std::map<std::string, std::string> folded = Partials(log.log(), dyad);
  ASSERT_FALSE(folded.empty());
  ASSERT_THAT(log.log().RebuildProjections(/*repair=*/true).status(), IsOk());
  const uint64_t after = log.log().CacheEpoch();
  EXPECT_NE(after, before);
  EXPECT_EQ(after % 2, 0u) << "the repair has ended";
  // What the reader folded before, kept now with the epoch it read at
  // (the position and hash are current: the repair kept the history).
  for (const auto& [key, value] : folded) {
    ASSERT_THAT(log.log().KeepCache(key, value, before), IsOk());
  }
  EXPECT_TRUE(Partials(log.log(), dyad).empty());
  // Folded after the repair, they are kept.
  ASSERT_THAT(KeepPartials(log.log(), dyad, /*month_partial_events=*/1).status(),
              IsOk());
  EXPECT_EQ(Partials(log.log(), dyad), folded);
  ExpectAnswersAreTheFold(log.log());
}

}  // namespace
}  // namespace annals::services
