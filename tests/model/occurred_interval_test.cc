// Occurred dates as intervals of days (services/model/occurred_interval.h).
#include "services/model/occurred_interval.h"

#include "gtest/gtest.h"

namespace annals::services {
namespace {

v1::Date D(int year, int month = 0, int day = 0) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Occurred O(v1::Date start) {
  v1::Occurred occurred;
  *occurred.mutable_start() = start;
  return occurred;
}

v1::Occurred O(v1::Date start, v1::Date end) {
  v1::Occurred occurred = O(start);
  *occurred.mutable_end() = end;
  return occurred;
}

TEST(OccurredInterval, APeriodRunsFromItsFirstToItsLastDay) {
  EXPECT_EQ(FirstDayOf(D(2002)), 20020101u);
  EXPECT_EQ(LastDayOf(D(2002)), 20021231u);
  EXPECT_EQ(FirstDayOf(D(2002, 9)), 20020901u);
  EXPECT_EQ(LastDayOf(D(2002, 9)), 20020930u);
  EXPECT_EQ(FirstDayOf(D(2002, 9, 17)), 20020917u);
  EXPECT_EQ(LastDayOf(D(2002, 9, 17)), 20020917u);
  // Month lengths, leap years included.
  EXPECT_EQ(LastDayOf(D(2000, 2)), 20000229u);
  EXPECT_EQ(LastDayOf(D(1900, 2)), 19000228u);
  EXPECT_EQ(LastDayOf(D(2024, 2)), 20240229u);
  EXPECT_EQ(LastDayOf(D(2002, 12)), 20021231u);
  EXPECT_EQ(LastDayOf(D(9999)), 99991231u);
}

TEST(OccurredInterval, ARangeRunsFromItsStartsFirstToItsEndsLastDay) {
  EXPECT_EQ(IntervalOf(O(D(2014, 5, 26), D(2014, 5, 28))),
            (DayInterval{20140526, 20140528}));
  EXPECT_EQ(IntervalOf(O(D(2014, 5), D(2014, 7))),
            (DayInterval{20140501, 20140731}));
  EXPECT_EQ(IntervalOf(O(D(2014), D(2017))), (DayInterval{20140101, 20171231}));
  EXPECT_EQ(IntervalOf(O(D(2002, 9))), (DayInterval{20020901, 20020930}));
}

TEST(OccurredInterval, OrderIsFirstDayThenLastDay) {
  const DayInterval year = IntervalOf(O(D(2002)));
  const DayInterval first = IntervalOf(O(D(2002, 9, 1)));
  const DayInterval month = IntervalOf(O(D(2002, 9)));
  const DayInterval day = IntervalOf(O(D(2002, 9, 17)));
  EXPECT_LT(year, first);
  EXPECT_LT(first, month);
  EXPECT_LT(month, day);
}

TEST(OccurredInterval, SpansAndDaysBefore) {
  EXPECT_EQ(SpanDays(IntervalOf(O(D(2002, 9, 17)))), 0u);
  EXPECT_EQ(SpanDays(IntervalOf(O(D(2002, 9)))), 29u);
  EXPECT_EQ(SpanDays(IntervalOf(O(D(2000)))), 365u);
  EXPECT_EQ(SpanDays(IntervalOf(O(D(2014), D(2017)))), 1460u);
  EXPECT_EQ(DaysBefore(20020301, 1), 20020228u);
  EXPECT_EQ(DaysBefore(20020917, 365), 20010917u);
  EXPECT_EQ(DaysBefore(10101, 5), 10101u);  // not before 0001-01-01
}

}  // namespace
}  // namespace annals::services
