// How validation names and quotes what it reports, and the form of ids
// and stream names: shared by the checks of events (validation.cc) and of
// append requests (append_request.cc). Internal to services/model.
#ifndef ANNALS_SERVICES_MODEL_VALIDATION_PATHS_H_
#define ANNALS_SERVICES_MODEL_VALIDATION_PATHS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/rpc_status.h"

namespace annals::services::validation_internal {

using Violations = std::vector<rpc::FieldViolation>;

// "events[0]" + "summary" -> "events[0].summary"; "" + "summary" -> "summary".
std::string Field(absl::string_view path, absl::string_view name);

// "events[0].source" + 2 -> "events[0].source[2]".
std::string Index(absl::string_view path, int i);

// A value as a description quotes it: in double quotes, escaped, shortened.
std::string Quote(absl::string_view value);

// Reports `field` with `description`.
void Add(Violations* out, std::string field, std::string description);

// 1 to 128 characters of [A-Za-z0-9._:-]: the form of ids and stream names.
bool IsIdForm(absl::string_view s);

// Checks a (non-empty) id-form value; true when valid.
bool CheckIdForm(absl::string_view value, const std::string& field,
                 Violations* out);

}  // namespace annals::services::validation_internal

#endif  // ANNALS_SERVICES_MODEL_VALIDATION_PATHS_H_
