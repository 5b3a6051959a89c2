// The files that say who may call annalsd:
//
//   --auth-tokens FILE   one bearer token per line:  NAME ROLE SHA256HEX
//                        (the token's digest, services/auth/token.h; never
//                        the token itself)
//   --auth-certs FILE    one client certificate subject per line:
//                        SUBJECT ROLE  (the certificate's CN, or its first
//                        SAN when it has no CN)
//
// Blank lines and lines starting with '#' are skipped; fields are
// separated by spaces or tabs. Names and subjects are 1..128 characters of
// letters, digits and . _ @ : -.
#ifndef ANNALS_SERVICES_AUTH_PRINCIPALS_FILE_H_
#define ANNALS_SERVICES_AUTH_PRINCIPALS_FILE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/auth/roles.h"

namespace annals::auth {

struct TokenEntry {
  std::string name;
  Role role;
  std::string digest;  // 32 raw bytes
};

// What the files hold.
struct Principals {
  std::vector<TokenEntry> tokens;
  // Certificate subject -> role.
  absl::flat_hash_map<std::string, Role> certificates;
};

// Whether `name` may name a token or a certificate subject, and the rule
// in words.
bool IsValidPrincipalName(absl::string_view name);
inline constexpr absl::string_view kPrincipalNameRule =
    "1..128 letters, digits or ._@:-";

// The entries of a tokens file's text. INVALID_ARGUMENT naming `path`, the
// line and what is wrong (a bad name, role or digest, a name given twice).
absl::StatusOr<std::vector<TokenEntry>> ParseTokens(absl::string_view text,
                                                    absl::string_view path);

// The entries of a certificates file's text; errors as ParseTokens.
absl::StatusOr<absl::flat_hash_map<std::string, Role>> ParseCertificates(
    absl::string_view text, absl::string_view path);

// Reads both files (an empty path: none of that kind). NOT_FOUND /
// PERMISSION_DENIED naming a file that cannot be read, INVALID_ARGUMENT
// for a line that does not parse.
absl::StatusOr<Principals> ReadPrincipals(const std::string& tokens_path,
                                          const std::string& certs_path);

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_PRINCIPALS_FILE_H_
