// Relationships.GetRelationship's raw request bytes, parsed as the service
// parses them, answered over the seed timeline as the service answers
// (SerializedRelationship: current, as of a position, as of a date). The
// answer is INVALID_ARGUMENT or bytes that parse as the response.
#include <cstddef>
#include <cstdint>

#include "services/rpc/raw_request.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/seeded_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using annals::fuzz::Require;
  annals::v1::GetRelationshipRequest request;
  if (!annals::services::ParseRawRequest(annals::fuzz::Buffer(data, size),
                                         &request).ok()) {
    return 0;
  }
  absl::StatusOr<annals::services::SerializedResponse> answer =
      annals::fuzz::SeededQueries().SerializedRelationship(request);
  annals::fuzz::RequireValidOrInvalidArgument(answer.status());
  if (!answer.ok()) return 0;
  annals::v1::GetRelationshipResponse response;
  Require(response.ParseFromString(*answer->state) &&
              response.MergeFromString(answer->rest),
          "the answer parses as a GetRelationshipResponse");
  return 0;
}
