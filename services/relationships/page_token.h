// Page tokens of ListRelationships and QueryTimeline: where the next page
// resumes, bound to the query that issued it.
//
// A token is base64url("\x01" || BE64 query fingerprint || key): a version
// byte, the fingerprint of the request with its page fields cleared, and
// the last projection key the page examined. Tokens are not secret: a
// client that computes a fingerprint can resume at any key of the query's
// prefix, so a decoded key is only ever used as a scan position.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_PAGE_TOKEN_H_
#define ANNALS_SERVICES_RELATIONSHIPS_PAGE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace annals::services {

// FNV-1a over the deterministic serialization of `request` with its page
// fields cleared: equal queries, equal fingerprints. `Request` is a
// ListRelationshipsRequest or a QueryTimelineRequest.
template <typename Request>
uint64_t QueryFingerprint(Request request) {
  request.clear_page_size();
  request.clear_page_token();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// The token of the page after `key` for the query of `fingerprint`.
std::string EncodePageToken(uint64_t fingerprint, absl::string_view key);

// The key in `token`, which must have been issued for a query with
// `fingerprint` and hold a key starting with `prefix`; "" for an empty
// token (the first page). INVALID_ARGUMENT naming page_token otherwise.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            uint64_t fingerprint,
                                            absl::string_view prefix);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_PAGE_TOKEN_H_
