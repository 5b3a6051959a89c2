// One request of an EventLog.AppendSession stream, deserialized as gRPC
// does, then what the session's reactor does with it: its size counts
// against the window, and its append is validated as QueueAppend does
// (tests/fuzz/event_checks.h).
#include <cstddef>
#include <cstdint>

#include "services/rpc/raw_request.h"
#include "tests/fuzz/event_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::v1::AppendSessionRequest request;
  if (!annals::services::ParseRawRequest(annals::fuzz::Buffer(data, size),
                                         &request).ok()) {
    return 0;
  }
  static_cast<void>(request.ByteSizeLong());
  if (request.has_append()) annals::fuzz::CheckAppend(request.append());
  return 0;
}
