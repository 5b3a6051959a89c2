#include "proto/date_text.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace annals {
namespace {

// True when `text` is exactly `digits` decimal digits.
bool IsDigits(absl::string_view text, size_t digits) {
  return text.size() == digits &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

absl::StatusOr<v1::Date> ParseDateText(absl::string_view name,
                                       absl::string_view value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(value, '-');
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " must be a date YYYY, YYYY-MM or YYYY-MM-DD, got '", value, "'",
        why.empty() ? "" : absl::StrCat(" (", why, ")")));
  };
  if (parts.size() > 3 || !IsDigits(parts[0], 4) ||
      (parts.size() > 1 && !IsDigits(parts[1], 2)) ||
      (parts.size() > 2 && !IsDigits(parts[2], 2))) {
    return bad("");
  }
  v1::Date date;
  int number = 0;
  (void)absl::SimpleAtoi(parts[0], &number);
  if (number < 1) return bad("no year 0");
  date.set_year(number);
  if (parts.size() > 1) {
    (void)absl::SimpleAtoi(parts[1], &number);
    if (number < 1 || number > 12) return bad("no such month");
    date.set_month(number);
  }
  if (parts.size() > 2) {
    (void)absl::SimpleAtoi(parts[2], &number);
    if (number < 1 || number > DaysInMonth(date.year(), date.month())) {
      return bad("no such day");
    }
    date.set_day(number);
  }
  return date;
}

}  // namespace annals
