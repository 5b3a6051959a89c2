// Control characters in text: which ones annals refuses in an event
// (services/model/validation.h) and how the CLI shows them when an older
// log holds them anyway. One definition for both sides.
#ifndef ANNALS_PROTO_CONTROL_CHARACTERS_H_
#define ANNALS_PROTO_CONTROL_CHARACTERS_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace annals {

// The control character of UTF-8 `text` at byte `i` and its length in
// bytes: C0 controls (U+0000 to U+001F), DEL (U+007F), and C1 controls
// (U+0080 to U+009F, two bytes); 0 when there is none. Newline and tab
// count only when `newline_and_tab` is set.
inline size_t ControlCharacterAt(absl::string_view text, size_t i,
                                 bool newline_and_tab, int* code_point) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7F) {
    if (!newline_and_tab && (c == '\n' || c == '\t')) return 0;
    *code_point = c;
    return 1;
  }
  if (c == 0xC2 && i + 1 < text.size()) {
    const unsigned char next = static_cast<unsigned char>(text[i + 1]);
    if (next >= 0x80 && next <= 0x9F) {  // U+0080 to U+009F
      *code_point = next;
      return 2;
    }
  }
  return 0;
}

// The code point of the first control character of `text` other than
// newline and tab, or -1 when there is none.
inline int FirstControlCharacter(absl::string_view text) {
  int code_point = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (ControlCharacterAt(text, i, /*newline_and_tab=*/false, &code_point)) {
      return code_point;
    }
  }
  return -1;
}

// `text` safe to write to a terminal: every control character written as
// "\u001b" (newlines and tabs too unless `keep_newline_and_tab`).
inline std::string EscapeControlCharacters(absl::string_view text,
                                           bool keep_newline_and_tab = true) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    int code_point = 0;
    const size_t length =
        ControlCharacterAt(text, i, !keep_newline_and_tab, &code_point);
    if (length == 0) {
      out.push_back(text[i++]);
    } else {
      absl::StrAppendFormat(&out, "\\u%04x", code_point);
      i += length;
    }
  }
  return out;
}

}  // namespace annals

#endif  // ANNALS_PROTO_CONTROL_CHARACTERS_H_
