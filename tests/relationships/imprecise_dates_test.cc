// Imprecise occurred dates answered as intervals (services/model/
// occurred_interval.h) over the seed timeline, which records the 2002
// Koizumi-Kim summit to the month, Kim Jong Il's admission and the
// abductees' return only to the year 2002, and most UN General Assembly
// adoptions to the year.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/relationships/queries.h"
#include "tests/relationships/seeded_log.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeDate;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::Contains;
using ::testing::UnorderedElementsAre;

constexpr char kSummit[] = "jpn-prk-2002-09-koizumi-visits-pyongyang";
constexpr char kAdmission[] = "prk-jpn-2002-kim-jong-il-admits-abductions";
constexpr char kReturn[] = "prk-jpn-2002-five-abductees-return";

class ImpreciseDatesTest : public ::testing::Test {
 protected:
  RelationshipQueries queries() const {
    return RelationshipQueries(&testing::SeededLog().log());
  }

  // The ids of JPN-PRK's timeline over from..to, "~" before those only
  // overlapping it.
  std::vector<std::string> Ids(const v1::Date& from, const v1::Date& to,
                               bool include_overlapping = false) {
    v1::QueryTimelineRequest request;
    request.set_dyad("JPN-PRK");
    *request.mutable_from() = from;
    *request.mutable_to() = to;
    request.set_include_overlapping(include_overlapping);
    request.set_page_size(1000);
    absl::StatusOr<v1::QueryTimelineResponse> response =
        queries().QueryTimeline(request);
    EXPECT_THAT(response.status(), IsOk());
    std::vector<std::string> ids;
    if (!response.ok()) return ids;
    EXPECT_TRUE(response->next_page_token().empty());
    for (const v1::TimelineEntry& entry : response->entries()) {
      ids.push_back((entry.overlapping() ? "~" : "") + entry.event().id());
    }
    return ids;
  }

  v1::GetRelationshipResponse AsOf(const std::string& dyad,
                                   const v1::Date& date) {
    v1::GetRelationshipRequest request;
    request.set_dyad(dyad);
    *request.mutable_as_of_date() = date;
    absl::StatusOr<v1::GetRelationshipResponse> response =
        queries().GetRelationship(request);
    EXPECT_THAT(response.status(), IsOk());
    return response.ok() ? *response : v1::GetRelationshipResponse();
  }

};

TEST_F(ImpreciseDatesTest, SeptemberHoldsTheSummitKnownOnlyToTheMonth) {
  EXPECT_THAT(Ids(MakeDate(2002, 9, 1), MakeDate(2002, 9, 30)),
              UnorderedElementsAre(kSummit));
  EXPECT_THAT(Ids(MakeDate(2002, 9), MakeDate(2002, 9)),
              UnorderedElementsAre(kSummit));
}

TEST_F(ImpreciseDatesTest, TheYearHoldsTheEventsKnownOnlyToTheYear) {
  EXPECT_THAT(Ids(MakeDate(2002, 1, 1), MakeDate(2002, 12, 31)),
              IsSupersetOf({kSummit, kAdmission, kReturn}));
  EXPECT_THAT(Ids(MakeDate(2002), MakeDate(2002)),
              IsSupersetOf({kSummit, kAdmission, kReturn}));
}

TEST_F(ImpreciseDatesTest, ARangeCuttingThroughAnIntervalOnlyOverlapsIt) {
  const std::vector<std::string> within =
      Ids(MakeDate(2001, 12, 31), MakeDate(2002, 9, 16));
  EXPECT_THAT(within, Not(Contains(kSummit)));
  EXPECT_THAT(within, Not(Contains(kAdmission)));
  EXPECT_THAT(within, Not(Contains(kReturn)));
  // Asked for, they come marked as overlapping.
  EXPECT_THAT(Ids(MakeDate(2001, 12, 31), MakeDate(2002, 9, 16), true),
              IsSupersetOf({std::string("~") + kSummit,
                            std::string("~") + kAdmission,
                            std::string("~") + kReturn}));
  // A year-long interval overlaps a range inside it, found however far
  // before the range the interval starts.
  EXPECT_THAT(Ids(MakeDate(2002, 11, 1), MakeDate(2002, 11, 2), true),
              UnorderedElementsAre(std::string("~") + kAdmission,
                                   std::string("~") + kReturn));
  EXPECT_THAT(Ids(MakeDate(2002, 9, 1), MakeDate(2002, 9, 30), true),
              UnorderedElementsAre(kSummit, std::string("~") + kAdmission,
                                   std::string("~") + kReturn));
}

TEST_F(ImpreciseDatesTest, AsOfADateCountsWhatHadCertainlyHappened) {
  // On 2002-09-16 the summit of "2002-09" may or may not have happened.
  v1::GetRelationshipResponse before = AsOf("JPN-PRK", MakeDate(2002, 9, 16));
  EXPECT_NE(before.state().last_meeting().event().event_id(), kSummit);
  EXPECT_EQ(before.state().leaders_meeting_count(), 0);
  EXPECT_EQ(before.uncertain_event_count(), 3);  // summit, admission, return
  v1::GetRelationshipResponse after = AsOf("JPN-PRK", MakeDate(2002, 9));
  EXPECT_EQ(after.state().last_meeting().event().event_id(), kSummit);
  EXPECT_EQ(after.uncertain_event_count(), 2);

  // On 2002-01-01 the abductees had not certainly returned.
  v1::GetRelationshipResponse new_year = AsOf("JPN-PRK", MakeDate(2002, 1, 1));
  EXPECT_EQ(new_year.state().event_count(),
            AsOf("JPN-PRK", MakeDate(2001)).state().event_count());
  EXPECT_EQ(new_year.uncertain_event_count(), 2);
  const v1::GetRelationshipResponse year = AsOf("JPN-PRK", MakeDate(2002));
  EXPECT_EQ(year.uncertain_event_count(), 0);
  EXPECT_EQ(year.state().event_count(), new_year.state().event_count() + 3);
}

TEST_F(ImpreciseDatesTest, ThirteenGeneralAssemblyAdoptionsByOctober2018) {
  const v1::GetRelationshipResponse october =
      AsOf("PRK-UNGA", MakeDate(2018, 10, 31));
  int adopted = 0;
  for (const v1::ResolutionRecord& r : october.state().resolutions()) {
    if (r.decision() == v1::ResolutionAction::ACTION_ADOPTED) ++adopted;
  }
  EXPECT_EQ(adopted, 13);
  EXPECT_EQ(october.uncertain_event_count(), 1);  // "2018"
  EXPECT_EQ(AsOf("PRK-UNGA", MakeDate(2018)).state().event_count(),
            october.state().event_count() + 1);
}

TEST_F(ImpreciseDatesTest, TheIndexCountsWhatItCouldNotPlaceInAMonth) {
  v1::GetRelationshipRequest request;
  request.set_dyad("PRK-UNGA");
  absl::StatusOr<v1::GetRelationshipResponse> now =
      queries().GetRelationship(request);
  ASSERT_THAT(now.status(), IsOk());
  // The adoption of "2018" may be as late as December 2018: the window is
  // 2018, which holds no event placed in a month and one not placed.
  EXPECT_EQ(now->index().end_year(), 2018);
  EXPECT_EQ(now->index().end_month(), 12);
  EXPECT_EQ(now->index().event_count(), 0);
  EXPECT_EQ(now->index().unplaced_count(), 1);
  // As of 2014: the December 2014 adoption is placed; nothing else is.
  const v1::GetRelationshipResponse then = AsOf("PRK-UNGA", MakeDate(2014));
  EXPECT_EQ(then.index().event_count(), 1);
  EXPECT_EQ(then.index().unplaced_count(), 0);
  // As of 2013: the window 2013 holds only "2013".
  const v1::GetRelationshipResponse earlier = AsOf("PRK-UNGA", MakeDate(2013));
  EXPECT_EQ(earlier.index().event_count(), 0);
  EXPECT_EQ(earlier.index().unplaced_count(), 1);
}

}  // namespace
}  // namespace annals::services
