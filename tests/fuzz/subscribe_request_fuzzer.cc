// Subscriptions.Subscribe's raw request bytes, parsed as the service
// parses them (ParseRawRequest), its filter validated (EventFilter::Parse)
// and, when valid, matched against every event of the seed timeline.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "services/rpc/raw_request.h"
#include "services/subscriptions/filter.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/seeded_log.h"

namespace annals::fuzz {
namespace {

void CheckSubscribe(const v1::SubscribeRequest& request) {
  std::vector<rpc::FieldViolation> violations;
  const services::EventFilter filter =
      services::EventFilter::Parse(request.filter(), "filter", &violations);
  if (!violations.empty()) return;
  size_t matched = 0;
  for (const v1::RecordedEvent& event : SeedEvents()) {
    if (filter.Matches(event)) ++matched;
  }
  Require(!filter.all() || matched == SeedEvents().size(),
          "a filter that matches all matches every event");
}

}  // namespace
}  // namespace annals::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::v1::SubscribeRequest request;
  if (annals::services::ParseRawRequest(annals::fuzz::Buffer(data, size),
                                        &request).ok()) {
    annals::fuzz::CheckSubscribe(request);
  }
  return 0;
}
