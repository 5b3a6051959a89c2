// The days an occurred date covers. A date known to the month or the year
// names every day of it ("2002-09" is 2002-09-01 ... 2002-09-30, "2002" the
// whole year) and a range runs from the first day of its start to the last
// day of its end, as EDTF and UCDP's date_start/date_end treat them. Every
// comparison of occurred dates in annals goes through these intervals:
//   - the order of events ("first", "last", timelines): by the interval's
//     first day, then its last day (the shorter first), then the id (in a
//     state) or the position (in a timeline);
//   - a date range [from, to] holds an event when the interval lies within
//     the first day of `from` ... the last day of `to`, and overlaps it when
//     they share a day;
//   - an event had certainly happened by a date D when its interval ends
//     by D's last day, and might have when it only starts by then.
#ifndef ANNALS_SERVICES_MODEL_OCCURRED_INTERVAL_H_
#define ANNALS_SERVICES_MODEL_OCCURRED_INTERVAL_H_

#include <cstdint>
#include <tuple>

#include "annals/v1/event.pb.h"

namespace annals::services {

// A day as year * 10000 + month * 100 + day (2002-09-17 is 20020917):
// day keys order as the days do, and read as dates in hex dumps of keys.
using DayKey = uint32_t;

// The year and the month (1-12) of a day key; the key of the first day of
// a month, and a key that orders after every day of the month and before
// the next month (not always a day: February 31).
inline uint32_t YearOf(DayKey day) { return day / 10000; }
inline uint8_t MonthOf(DayKey day) { return day / 100 % 100; }
inline DayKey FirstDayOfMonth(uint32_t year, uint8_t month) {
  return year * 10000 + month * 100 + 1;
}
inline DayKey MonthEndBound(uint32_t year, uint8_t month) {
  return year * 10000 + month * 100 + 31;
}

// The first and the last day of the period `date` names (a valid Date:
// year 1-9999, month 0-12, day 0 or a day of the month).
DayKey FirstDayOf(const v1::Date& date);
DayKey LastDayOf(const v1::Date& date);

// The days an occurred date covers: FirstDayOf(start) ...
// LastDayOf(end when set, else start). Both inclusive.
struct DayInterval {
  DayKey first = 0;
  DayKey last = 0;

  // The order of events by when they occurred: first day, then last day.
  friend auto operator<=>(const DayInterval& a, const DayInterval& b) {
    return std::tie(a.first, a.last) <=> std::tie(b.first, b.last);
  }
  friend bool operator==(const DayInterval&, const DayInterval&) = default;
};
DayInterval IntervalOf(const v1::Occurred& occurred);

// Days from `interval.first` to `interval.last` (0 for a single day).
uint32_t SpanDays(DayInterval interval);

// The day key `days` days before `key` (day 0001-01-01 at the earliest).
DayKey DaysBefore(DayKey key, uint32_t days);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_OCCURRED_INTERVAL_H_
