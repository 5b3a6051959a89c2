// annals.v1.Event from its binary form: parsed, then validated and, when
// valid, normalized, scored and projected (tests/fuzz/event_checks.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/event_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::v1::Event event;
  if (event.ParseFromArray(data, static_cast<int>(size))) {
    annals::fuzz::CheckEvent(event);
  }
  return 0;
}
