// annalsd's operational log: one line per event, on stderr.
//
// A line holds the time (RFC 3339, UTC, milliseconds), a level, the event's
// name and key=value fields, in one of two formats:
//
//   text: 2026-12-05T17:40:01.123Z INFO event=start version=0.4.0 data_dir=annals-data
//   json: {"time":"2026-12-05T17:40:01.123Z","level":"INFO","event":"start","version":"0.4.0",...}
//
// In text, a value is written as it is unless it is empty or holds a space,
// a quote, a backslash, '=' or a character below U+0020; then it
// is quoted as a JSON string ("a \"b\"\nc"). In JSON every field is a
// member, numbers and booleans as JSON numbers and booleans. Either way
// every line is exactly one line, whatever the values hold, and bytes
// that are not UTF-8 are written as U+FFFD.
//
// Fields are written in the order given, after time, level and event;
// keys are lower_snake_case and none is "time", "level" or "event".
#ifndef ANNALS_LOG_LOG_H_
#define ANNALS_LOG_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace annals::log {

enum class Level { kInfo, kWarning, kError };

// "INFO", "WARN", "ERROR".
absl::string_view LevelName(Level level);

enum class Format { kText, kJson };

// "text" or "json"; INVALID_ARGUMENT naming both otherwise.
absl::StatusOr<Format> ParseFormat(absl::string_view name);

// One key=value of a line.
class Field {
 public:
  using Value = std::variant<std::string, int64_t, uint64_t, bool, double>;

  Field(absl::string_view key, absl::string_view value)
      : key_(key), value_(std::string(value)) {}
  Field(absl::string_view key, const char* value)
      : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, const std::string& value)
      : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, bool value) : key_(key), value_(value) {}
  Field(absl::string_view key, double value) : key_(key), value_(value) {}
  template <typename Int,
            std::enable_if_t<std::is_integral_v<Int> &&
                                 !std::is_same_v<Int, bool>,
                             int> = 0>
  Field(absl::string_view key, Int value)
      : key_(key),
        value_(std::is_signed_v<Int> ? Value(static_cast<int64_t>(value))
                                     : Value(static_cast<uint64_t>(value))) {}

  absl::string_view key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string key_;
  Value value_;
};

// A duration in milliseconds, for fields named "..._ms".
double Milliseconds(absl::Duration duration);

// The line of one event, ending in '\n'.
std::string FormatLine(Format format, absl::Time time, Level level,
                       absl::string_view event,
                       absl::Span<const Field> fields);

// --- The process's log. Thread-safe; lines are never interleaved. ---

// The format of the lines Write writes from now on (default text).
void SetFormat(Format format);

// Where the lines go from now on: each whole line, '\n' included, to
// `output`; null: stderr (the default). `output` must not call Write.
void SetOutput(std::function<void(absl::string_view line)> output);

// Writes the line of `event` now: Write(Level::kInfo, "start", {{"port",
// 7465}, {"data_dir", dir}}).
void Write(Level level, absl::string_view event,
           absl::Span<const Field> fields = {});

inline void Info(absl::string_view event, absl::Span<const Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(absl::string_view event, absl::Span<const Field> fields = {}) {
  Write(Level::kWarning, event, fields);
}
inline void Error(absl::string_view event,
                  absl::Span<const Field> fields = {}) {
  Write(Level::kError, event, fields);
}

}  // namespace annals::log

#endif  // ANNALS_LOG_LOG_H_
