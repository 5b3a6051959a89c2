// The CLI's reader of event files (ParseEvents: JSON objects one after
// another, split by brace depth, each in protobuf's JSON mapping): refused
// with INVALID_ARGUMENT naming a line, or events that, written again one
// per line, read back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "clients/cli/event_format.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {
namespace {

void CheckParseEvents(absl::string_view input) {
  absl::StatusOr<std::vector<v1::Event>> events = ParseEvents(input);
  if (!events.ok()) {
    Require(absl::IsInvalidArgument(events.status()) &&
                absl::StartsWith(events.status().message(), "line "),
            "a bad event file is INVALID_ARGUMENT naming its line");
    return;
  }
  std::string lines;
  for (const v1::Event& event : *events) {
    std::string json;
    Require(google::protobuf::util::MessageToJsonString(event, &json).ok(),
            "a parsed event prints as JSON");
    lines += json + "\n";
  }
  absl::StatusOr<std::vector<v1::Event>> again = ParseEvents(lines);
  RequireOk(again.status(), "printed events parse again");
  Require(again->size() == events->size(), "as many events read back");
  for (size_t i = 0; i < events->size(); ++i) {
    Require((*again)[i].SerializeAsString() == (*events)[i].SerializeAsString(),
            "the same events read back");
  }
}

}  // namespace
}  // namespace annals::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::fuzz::CheckParseEvents(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
