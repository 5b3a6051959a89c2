// The paged queries (QueryTimeline, ListRelationships) from request bytes:
// parsed as gRPC deserializes them, answered over the seed timeline, and
// the next page read with the token the answer gives.
#ifndef ANNALS_TESTS_FUZZ_PAGED_QUERY_H_
#define ANNALS_TESTS_FUZZ_PAGED_QUERY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "services/relationships/queries.h"
#include "services/rpc/raw_request.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/seeded_log.h"

namespace annals::fuzz {

template <typename Request, typename Response>
using PagedQuery = absl::StatusOr<Response> (
    services::RelationshipQueries::*)(const Request&) const;

// The request in `data` is answered or refused as INVALID_ARGUMENT; the
// page after an answer that has a next_page_token is answered too.
template <typename Request, typename Response>
void CheckPagedQuery(const uint8_t* data, size_t size,
                     PagedQuery<Request, Response> query) {
  Request request;
  if (!services::ParseRawRequest(Buffer(data, size), &request).ok()) return;
  const services::RelationshipQueries& queries = SeededQueries();
  absl::StatusOr<Response> page = (queries.*query)(request);
  RequireValidOrInvalidArgument(page.status());
  if (!page.ok() || page->next_page_token().empty()) return;
  request.set_page_token(page->next_page_token());
  RequireOk((queries.*query)(request).status(), "the next page is answered");
}

}  // namespace annals::fuzz

#endif  // ANNALS_TESTS_FUZZ_PAGED_QUERY_H_
