// Relationships.QueryTimeline's request bytes over the seed timeline, and
// the page after (tests/fuzz/paged_query.h).
#include "tests/fuzz/paged_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::fuzz::CheckPagedQuery(
      data, size, &annals::services::RelationshipQueries::QueryTimeline);
  return 0;
}
