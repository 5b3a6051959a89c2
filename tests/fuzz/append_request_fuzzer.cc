// EventLog.Append's request bytes, deserialized as gRPC does, validated
// into a batch as QueueAppend does (tests/fuzz/event_checks.h).
#include <cstddef>
#include <cstdint>

#include "services/rpc/raw_request.h"
#include "tests/fuzz/event_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::v1::AppendRequest request;
  if (annals::services::ParseRawRequest(annals::fuzz::Buffer(data, size),
                                        &request).ok()) {
    annals::fuzz::CheckAppend(request);
  }
  return 0;
}
