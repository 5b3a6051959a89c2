// annals.v1.Event from its JSON form (protobuf's JsonStringToMessage, the
// canonical mapping clients write): parsed, then validated and, when
// valid, normalized, scored and projected (tests/fuzz/event_checks.h).
#include <cstddef>
#include <cstdint>

#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/event_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::v1::Event event;
  const google::protobuf::StringPiece json(reinterpret_cast<const char*>(data),
                                           size);
  if (google::protobuf::util::JsonStringToMessage(json, &event).ok()) {
    annals::fuzz::CheckEvent(event);
  }
  return 0;
}
