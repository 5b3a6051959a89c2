#include "clients/cli/token_command.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cli/cli_common.h"
#include "services/auth/principals_file.h"
#include "services/auth/roles.h"
#include "services/auth/token.h"

namespace annals {

int AdminTokenCommand(const std::vector<char*>& args, bool json,
                      std::ostream& out, std::ostream& err) {
  if (args.size() != 3 || absl::string_view(args[0]) != "create") {
    return UsageError(err, "admin token takes: create NAME ROLE");
  }
  const std::string name = args[1];
  const std::string role = args[2];
  // Checked before anything is printed: the line goes into a file that
  // annalsd parses.
  if (!auth::IsValidPrincipalName(name)) {
    return UsageError(err, absl::StrCat("token NAME '", name, "' must be ",
                                        auth::kPrincipalNameRule));
  }
  if (absl::StatusOr<auth::Role> known = auth::ParseRole(role); !known.ok()) {
    return UsageError(err, absl::StrCat("token ROLE: ", known.status().message()));
  }
  absl::StatusOr<std::string> token = auth::NewToken();
  if (!token.ok()) return ServerError(err, token.status());
  const std::string line =
      absl::StrCat(name, " ", role, " ", auth::TokenDigestHex(*token));
  // Names, roles, tokens (base64url) and digests need no JSON escaping.
  if (json) {
    out << "{\"name\":\"" << name << "\",\"role\":\"" << role
        << "\",\"token\":\"" << *token << "\",\"tokensFileLine\":\"" << line
        << "\"}\n";
  } else {
    out << *token << "\n" << line << "\n";
  }
  err << "annals: the token is shown only this once: give it to " << name
      << " (annals --token-file FILE, or $ANNALS_TOKEN) and add its "
         "tokens-file line to annalsd's --auth-tokens file\n";
  return 0;
}

}  // namespace annals
