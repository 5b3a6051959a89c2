// Dates as people write them: "2019", "2019-03", "2019-03-12". One parser
// for every front that takes a date as text (the CLI's flags, the HTTP
// gateway's query parameters).
#ifndef ANNALS_PROTO_DATE_TEXT_H_
#define ANNALS_PROTO_DATE_TEXT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"

namespace annals {

// The date `value` given as `name` ("--as-of", "asOfDate"): YYYY, YYYY-MM
// or YYYY-MM-DD with a real month and day (1 <= year <= 9999).
// INVALID_ARGUMENT naming `name` and the accepted forms otherwise.
absl::StatusOr<v1::Date> ParseDateText(absl::string_view name,
                                       absl::string_view value);

}  // namespace annals

#endif  // ANNALS_PROTO_DATE_TEXT_H_
