#include "services/model/occurred_interval.h"

#include <algorithm>

#include "absl/time/civil_time.h"

namespace annals::services {
namespace {

DayKey KeyOf(absl::CivilDay day) {
  return static_cast<DayKey>(day.year() * 10000 + day.month() * 100 +
                             day.day());
}

absl::CivilDay DayOf(DayKey key) {
  return absl::CivilDay(key / 10000, key / 100 % 100, key % 100);
}

}  // namespace

DayKey FirstDayOf(const v1::Date& date) {
  return static_cast<DayKey>(date.year() * 10000 +
                             std::max(date.month(), 1) * 100 +
                             std::max(date.day(), 1));
}

DayKey LastDayOf(const v1::Date& date) {
  if (date.day() != 0) return FirstDayOf(date);
  // The day before the first day of the next month (or year).
  const absl::CivilDay next =
      date.month() == 0
          ? absl::CivilDay(absl::CivilYear(date.year()) + 1)
          : absl::CivilDay(absl::CivilMonth(date.year(), date.month()) + 1);
  return KeyOf(next - 1);
}

DayInterval IntervalOf(const v1::Occurred& occurred) {
  return {FirstDayOf(occurred.start()),
          LastDayOf(occurred.has_end() ? occurred.end() : occurred.start())};
}

uint32_t SpanDays(DayInterval interval) {
  return static_cast<uint32_t>(
      std::max<absl::civil_diff_t>(0, DayOf(interval.last) - DayOf(interval.first)));
}

DayKey DaysBefore(DayKey key, uint32_t days) {
  const absl::CivilDay earliest(1, 1, 1);
  const absl::civil_diff_t room = DayOf(key) - earliest;
  return KeyOf(DayOf(key) - std::min<absl::civil_diff_t>(days, room));
}

}  // namespace annals::services
