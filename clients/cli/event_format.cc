#include "clients/cli/event_format.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "proto/control_characters.h"

namespace annals {
namespace {

// One top-level JSON value of the input and the line it starts on.
struct JsonObject {
  absl::string_view text;
  int line;
};

// Splits `input` into its top-level JSON objects by tracking brace depth
// outside strings. Text outside objects must be whitespace.
absl::StatusOr<std::vector<JsonObject>> SplitObjects(absl::string_view input) {
  std::vector<JsonObject> objects;
  int line = 1;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  size_t start = 0;
  int start_line = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (depth == 0) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      if (c != '{') {
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", line, ": expected a JSON object ('{'), got '",
            std::string(1, c), "'"));
      }
      start = i;
      start_line = line;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == 0) {
        objects.push_back({input.substr(start, i + 1 - start), start_line});
      }
    }
  }
  if (depth != 0 || in_string) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", start_line, ": JSON object is not closed before end of input"));
  }
  return objects;
}

std::string FormatDate(const v1::Date& date) {
  if (date.month() == 0) return absl::StrFormat("%04d", date.year());
  if (date.day() == 0) {
    return absl::StrFormat("%04d-%02d", date.year(), date.month());
  }
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

}  // namespace

absl::StatusOr<std::vector<v1::Event>> ParseEvents(absl::string_view input) {
  absl::StatusOr<std::vector<JsonObject>> objects = SplitObjects(input);
  if (!objects.ok()) return objects.status();
  std::vector<v1::Event> events;
  events.reserve(objects->size());
  for (const JsonObject& object : *objects) {
    v1::Event event;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(object.text.data(), object.text.size()),
        &event);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", object.line, ": not a valid annals.v1.Event: ",
          std::string(status.message())));
    }
    events.push_back(std::move(event));
  }
  return events;
}

absl::Status SetExpectedVersion(absl::string_view expect,
                                v1::AppendRequest* request) {
  uint64_t version = 0;
  if (expect == "any") {
    request->mutable_any();
  } else if (expect == "none") {
    request->mutable_no_stream();
  } else if (expect == "exists") {
    request->mutable_stream_exists();
  } else if (absl::SimpleAtoi(expect, &version)) {
    request->set_exact(version);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--expect must be any, none, exists or a version number, got '",
        expect, "'"));
  }
  return absl::OkStatus();
}

std::string FormatOccurred(const v1::Occurred& occurred) {
  std::string out = FormatDate(occurred.start());
  if (occurred.has_end()) absl::StrAppend(&out, "..", FormatDate(occurred.end()));
  return out;
}

std::string FormatEventLine(const v1::RecordedEvent& recorded) {
  const v1::Event& event = recorded.event();
  std::string actors = absl::StrJoin(event.source(), ",");
  if (event.target_size() > 0) {
    absl::StrAppend(&actors, ">", absl::StrJoin(event.target(), ","));
  }
  return EscapeControlCharacters(
      absl::StrCat("#", recorded.position(), " ", recorded.stream(), " v",
                   recorded.stream_version(), " ",
                   FormatOccurred(event.occurred()), " ", KindName(event), " ",
                   actors, " ", event.id(), ": ", event.summary()),
      /*keep_newline_and_tab=*/false);
}

std::string FormatEventDetail(const v1::RecordedEvent& recorded) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(recorded.event(), &json,
                                                     options);
  std::string hash;
  for (unsigned char c : recorded.hash()) absl::StrAppendFormat(&hash, "%02x", c);
  return EscapeControlCharacters(absl::StrCat(
      "position:       ", recorded.position(), "\n",
      "stream:         ", recorded.stream(), " (version ",
      recorded.stream_version(), ")\n",
      "recorded at:    ",
      google::protobuf::util::TimeUtil::ToString(recorded.recorded_at()), "\n",
      "principal:      ", recorded.principal(), "\n",
      "hash:           ", hash, "\n",
      "event:\n", json));
}

std::string FormatPositionRanges(
    const google::protobuf::RepeatedField<uint64_t>& positions) {
  std::string out;
  for (int i = 0; i < positions.size();) {
    int last = i;
    while (last + 1 < positions.size() &&
           positions[last + 1] == positions[last] + 1) {
      ++last;
    }
    if (!out.empty()) out += ", ";
    absl::StrAppend(&out, positions[i]);
    if (last > i) absl::StrAppend(&out, "–", positions[last]);
    i = last + 1;
  }
  return out;
}

std::string FormatAppendResponse(const v1::AppendResponse& response) {
  const int n = response.positions_size();
  return absl::StrCat(
      response.already_recorded() ? "already recorded: " : "appended ", n,
      n == 1 ? " event" : " events", " to ", response.stream(),
      n == 1 ? ": position " : ": positions ",
      FormatPositionRanges(response.positions()), " (stream version ",
      response.stream_version(), ")");
}

}  // namespace annals
