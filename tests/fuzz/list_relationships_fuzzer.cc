// Relationships.ListRelationships' request bytes over the seed timeline,
// and the page after (tests/fuzz/paged_query.h).
#include "tests/fuzz/paged_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::fuzz::CheckPagedQuery(
      data, size, &annals::services::RelationshipQueries::ListRelationships);
  return 0;
}
