// Reading the file a flag names (--auth-tokens, --tls-cert, ...), with an
// error that names the flag and the file.
#ifndef ANNALS_SERVICES_AUTH_FLAG_FILE_H_
#define ANNALS_SERVICES_AUTH_FLAG_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::auth {

// The whole of file `path`, which `flag` ("--tls-cert") names. NOT_FOUND
// when it does not exist, PERMISSION_DENIED when it cannot be read
// otherwise; the message says "cannot read FLAG PATH: REASON".
absl::StatusOr<std::string> ReadFlagFile(const std::string& path,
                                         absl::string_view flag);

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_FLAG_FILE_H_
