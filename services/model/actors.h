// The actor registry: which codes annals accepts as `source`, `target`,
// agreement parties, resolution sponsors and bodies.
//
// IsKnownActor (declared in services/model/validation.h) is true for
// exactly the codes for which IsCountryCode or IsOrganisation is true. All
// functions are thread-safe; the tables are built once, on first use.
#ifndef ANNALS_SERVICES_MODEL_ACTORS_H_
#define ANNALS_SERVICES_MODEL_ACTORS_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace annals::services {

// Number of officially assigned ISO 3166-1 alpha-3 codes annals knows.
inline constexpr size_t kCountryCodeCount = 249;

// True when `code` is one of the 249 officially assigned ISO 3166-1 alpha-3
// codes, or "XKX" (Kosovo: user-assigned, but in wide use). Upper-case only.
bool IsCountryCode(absl::string_view code);

// True when `code` is an organisation code annals knows: "UN", "UNGA",
// "UNSC", "UNHRC", "UNCHR", "EU", "ASEAN", ... (see actors.cc).
// Upper-case only. A resolution's `body` must be one of these.
bool IsOrganisation(absl::string_view code);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_ACTORS_H_
