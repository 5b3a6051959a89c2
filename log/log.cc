#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace annals::log {
namespace {

using Json = nlohmann::ordered_json;

// One line of JSON text, every string escaped (quotes, backslashes, control
// characters as \uXXXX) and every byte that is not UTF-8 replaced by
// U+FFFD. protobuf's JSON printer escapes as well, but drops such bytes
// and writes a line of its own on stderr when it meets them.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', /*ensure_ascii=*/false,
                   Json::error_handler_t::replace);
}

Json ToJson(const Field::Value& value) {
  return std::visit([](const auto& v) { return Json(v); }, value);
}

// Whether a text value must be quoted to stay one token of one line.
bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || c == '"' || c == '\\' || c == '=') {
      return true;
    }
  }
  return false;
}

std::string TextValue(const Field::Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::string quoted = Dump(Json(*text));
    if (NeedsQuotes(*text)) return quoted;
    return quoted.substr(1, quoted.size() - 2);  // the same bytes, as UTF-8
  }
  return Dump(ToJson(value));
}

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

// The process's log.
struct Sink {
  std::atomic<Format> format{Format::kText};
  absl::Mutex mu;
  std::function<void(absl::string_view)> output ABSL_GUARDED_BY(mu);
};

Sink& TheSink() {
  static Sink* const sink = new Sink;
  return *sink;
}

void WriteToStderr(absl::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // nowhere to say so: the line is dropped
    line.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "INFO";
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("the log format is 'text' or 'json', not '", name, "'"));
}

double Milliseconds(absl::Duration duration) {
  return std::round(absl::ToDoubleMicroseconds(duration)) / 1000;
}

std::string FormatLine(Format format, absl::Time time, Level level,
                       absl::string_view event,
                       absl::Span<const Field> fields) {
  if (format == Format::kJson) {
    Json line = {
        {"time", Rfc3339(time)}, {"level", LevelName(level)}, {"event", event}};
    for (const Field& field : fields) {
      line[std::string(field.key())] = ToJson(field.value());
    }
    return absl::StrCat(Dump(line), "\n");
  }
  std::string line = absl::StrCat(Rfc3339(time), " ", LevelName(level),
                                  " event=", TextValue(std::string(event)));
  for (const Field& field : fields) {
    absl::StrAppend(&line, " ", field.key(), "=", TextValue(field.value()));
  }
  line.push_back('\n');
  return line;
}

void SetFormat(Format format) { TheSink().format.store(format); }

void SetOutput(std::function<void(absl::string_view line)> output) {
  Sink& sink = TheSink();
  absl::MutexLock lock(&sink.mu);
  sink.output = std::move(output);
}

void Write(Level level, absl::string_view event,
           absl::Span<const Field> fields) {
  Sink& sink = TheSink();
  const std::string line =
      FormatLine(sink.format.load(), absl::Now(), level, event, fields);
  absl::MutexLock lock(&sink.mu);
  if (sink.output) {
    sink.output(line);
  } else {
    WriteToStderr(line);
  }
}

}  // namespace annals::log
