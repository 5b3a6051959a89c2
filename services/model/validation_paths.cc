// validation_paths.h: how validation names and quotes what it reports,
// and the form of ids.
#include "services/model/validation_paths.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace annals::services::validation_internal {
namespace {

// Largest id / stream name, in characters.
constexpr size_t kMaxIdLength = 128;
// How much of an offending value a description quotes.
constexpr size_t kMaxQuotedBytes = 64;

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

bool AllIdChars(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), IsIdChar);
}

}  // namespace

std::string Field(absl::string_view path, absl::string_view name) {
  if (path.empty()) return std::string(name);
  return absl::StrCat(path, ".", name);
}

std::string Index(absl::string_view path, int i) {
  return absl::StrCat(path, "[", i, "]");
}

std::string Quote(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) {
    return absl::StrCat("\"", absl::Utf8SafeCEscape(value), "\"");
  }
  // Cut on a UTF-8 character boundary.
  size_t cut = kMaxQuotedBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat("\"", absl::Utf8SafeCEscape(value.substr(0, cut)),
                      "\"... (", value.size(), " bytes)");
}

void Add(Violations* out, std::string field, std::string description) {
  out->push_back({std::move(field), std::move(description)});
}

bool IsIdForm(absl::string_view s) {
  return !s.empty() && s.size() <= kMaxIdLength && AllIdChars(s);
}

bool CheckIdForm(absl::string_view value, const std::string& field,
                 Violations* out) {
  if (value.size() > kMaxIdLength) {
    Add(out, field,
        absl::StrCat("must be at most ", kMaxIdLength, " characters, got ",
                     value.size()));
    return false;
  }
  if (!AllIdChars(value)) {
    Add(out, field,
        absl::StrCat("must contain only the characters [A-Za-z0-9._:-], got ",
                     Quote(value)));
    return false;
  }
  return true;
}

}  // namespace annals::services::validation_internal
