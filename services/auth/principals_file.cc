#include "services/auth/principals_file.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/auth/flag_file.h"

namespace annals::auth {
namespace {

// The fields of each line that is not blank or a comment, with its number.
struct Line {
  int number;
  std::vector<absl::string_view> fields;
};

std::vector<Line> Lines(absl::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    lines.push_back(
        {number, absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())});
  }
  return lines;
}

absl::Status LineError(absl::string_view path, int line,
                       absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":", line, ": ", what));
}

// The role of field `name` on `line`, or the error naming it.
absl::StatusOr<Role> LineRole(absl::string_view path, const Line& line,
                              absl::string_view name) {
  absl::StatusOr<Role> role = ParseRole(line.fields[1]);
  if (!role.ok()) {
    return LineError(path, line.number,
                     absl::StrCat(name, " ", role.status().message()));
  }
  return role;
}

}  // namespace

bool IsValidPrincipalName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("._@:-", c)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokens(absl::string_view text,
                                                    absl::string_view path) {
  std::vector<TokenEntry> tokens;
  for (const Line& line : Lines(text)) {
    if (line.fields.size() != 3) {
      return LineError(path, line.number,
                       "expected NAME ROLE SHA256HEX (three fields)");
    }
    if (!IsValidPrincipalName(line.fields[0])) {
      return LineError(path, line.number,
                       absl::StrCat("token name '", line.fields[0],
                                    "' must be ", kPrincipalNameRule));
    }
    absl::StatusOr<Role> role = LineRole(path, line, "token");
    if (!role.ok()) return role.status();
    const absl::string_view hex = line.fields[2];
    if (hex.size() != 64 ||
        !std::all_of(hex.begin(), hex.end(), [](char c) {
          return absl::ascii_isxdigit(static_cast<unsigned char>(c));
        })) {
      return LineError(path, line.number,
                       "the digest must be the token's SHA-256 in 64 hex "
                       "digits (annals admin token create prints the line)");
    }
    for (const TokenEntry& earlier : tokens) {
      if (earlier.name == line.fields[0]) {
        return LineError(path, line.number,
                         absl::StrCat("token name '", line.fields[0],
                                      "' is given twice"));
      }
    }
    tokens.push_back({std::string(line.fields[0]), *role,
                      absl::HexStringToBytes(absl::AsciiStrToLower(hex))});
  }
  return tokens;
}

absl::StatusOr<absl::flat_hash_map<std::string, Role>> ParseCertificates(
    absl::string_view text, absl::string_view path) {
  absl::flat_hash_map<std::string, Role> certificates;
  for (const Line& line : Lines(text)) {
    if (line.fields.size() != 2) {
      return LineError(path, line.number,
                       "expected SUBJECT ROLE (two fields)");
    }
    if (!IsValidPrincipalName(line.fields[0])) {
      return LineError(path, line.number,
                       absl::StrCat("subject '", line.fields[0],
                                    "' must be ", kPrincipalNameRule));
    }
    absl::StatusOr<Role> role = LineRole(path, line, "certificate");
    if (!role.ok()) return role.status();
    if (!certificates.emplace(line.fields[0], *role).second) {
      return LineError(path, line.number,
                       absl::StrCat("subject '", line.fields[0],
                                    "' is given twice"));
    }
  }
  return certificates;
}

absl::StatusOr<Principals> ReadPrincipals(const std::string& tokens_path,
                                          const std::string& certs_path) {
  Principals principals;
  if (!tokens_path.empty()) {
    absl::StatusOr<std::string> text = ReadFlagFile(tokens_path, "--auth-tokens");
    if (!text.ok()) return text.status();
    absl::StatusOr<std::vector<TokenEntry>> tokens =
        ParseTokens(*text, tokens_path);
    if (!tokens.ok()) return tokens.status();
    principals.tokens = *std::move(tokens);
  }
  if (!certs_path.empty()) {
    absl::StatusOr<std::string> text = ReadFlagFile(certs_path, "--auth-certs");
    if (!text.ok()) return text.status();
    absl::StatusOr<absl::flat_hash_map<std::string, Role>> certificates =
        ParseCertificates(*text, certs_path);
    if (!certificates.ok()) return certificates.status();
    principals.certificates = *std::move(certificates);
  }
  return principals;
}

}  // namespace annals::auth
