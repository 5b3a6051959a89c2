#include "clients/cli/token_command.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/cli_common.h"
#include "services/auth/token.h"

namespace annals {
namespace {

constexpr size_t kMaxNameLength = 64;

bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '@' || c == '-';
}

}  // namespace

absl::Status CheckTokenName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("token NAME must be 1 to ", kMaxNameLength,
                     " characters, got ", name.size()));
  }
  for (char c : name) {
    if (!IsNameCharacter(c)) {
      return absl::InvalidArgumentError(
          "token NAME may hold only A-Z a-z 0-9 . _ @ -");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTokenRole(absl::string_view role) {
  for (absl::string_view known : kTokenRoles) {
    if (role == known) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "token ROLE must be one of ", absl::StrJoin(kTokenRoles, ", ")));
}

int AdminTokenCommand(const std::vector<char*>& args, bool json,
                      std::ostream& out, std::ostream& err) {
  if (args.size() != 3 || absl::string_view(args[0]) != "create") {
    return UsageError(err, "admin token takes: create NAME ROLE");
  }
  const std::string name = args[1];
  const std::string role = args[2];
  // Checked before anything is printed: the line goes into a file that
  // annalsd parses.
  for (const absl::Status& check :
       {CheckTokenName(name), CheckTokenRole(role)}) {
    if (!check.ok()) return UsageError(err, check.message());
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
