// Page tokens (services/relationships/page_token.h): any bytes decoded,
// any key encoded and decoded back, and QueryTimeline and
// ListRelationships over the seed timeline resumed at any key of their
// prefix: a client that computes a query's fingerprint can forge such a
// token, and the query must still answer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/relationships/page_token.h"
#include "storage/format.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/seeded_log.h"

namespace annals::fuzz {
namespace {

constexpr uint64_t kFingerprint = 0x0123456789abcdefull;

void CheckDecode(absl::string_view token) {
  absl::StatusOr<std::string> key =
      services::DecodePageToken(token, kFingerprint, "");
  RequireValidOrInvalidArgument(key.status());
  if (!key.ok()) return;
  absl::StatusOr<std::string> again = services::DecodePageToken(
      services::EncodePageToken(kFingerprint, *key), kFingerprint, "");
  Require(again.ok() && *again == *key, "a decoded key encodes again");
}

void CheckRoundTrip(absl::string_view key) {
  absl::StatusOr<std::string> decoded = services::DecodePageToken(
      services::EncodePageToken(kFingerprint, key), kFingerprint, key);
  Require(decoded.ok() && *decoded == key, "an encoded key decodes");
  Require(!services::DecodePageToken(
               services::EncodePageToken(kFingerprint + 1, key), kFingerprint,
               "")
               .ok(),
          "a token of another query is refused");
}

// Resumes after `after` (within the prefix) in both directions.
void CheckForgedResume(absl::string_view after, uint8_t choice) {
  const services::RelationshipQueries& queries = SeededQueries();
  constexpr const char* kSubjects[] = {"", "JPN", "JPN-PRK", "PRK-USA"};
  v1::QueryTimelineRequest timeline;
  const std::string subject = kSubjects[choice % 4];
  if (subject.size() == 3) timeline.set_actor(subject);
  if (subject.size() > 3) timeline.set_dyad(subject);
  timeline.set_descending(choice & 4);
  timeline.set_page_size(1 + choice / 8);
  timeline.set_page_token(services::EncodePageToken(
      services::QueryFingerprint(timeline),
      absl::StrCat(storage::format::TimelinePrefix(subject), after)));
  RequireOk(queries.QueryTimeline(timeline).status(),
            "a timeline resumes at any key of its prefix");

  v1::ListRelationshipsRequest list;
  list.set_ascending(choice & 4);
  list.set_order_by(choice & 8 ? v1::ListRelationshipsRequest::ORDER_BY_INDEX
                               : v1::ListRelationshipsRequest::ORDER_BY_RECENT_ACTIVITY);
  list.set_page_size(1 + choice / 16);
  const char tag = choice & 8 ? storage::format::kByIndexTag
                              : storage::format::kByActivityTag;
  list.set_page_token(services::EncodePageToken(
      services::QueryFingerprint(list), absl::StrCat(std::string(1, tag), after)));
  RequireOk(queries.ListRelationships(list).status(),
            "a listing resumes at any key of its order");
}

}  // namespace
}  // namespace annals::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  annals::fuzz::CheckDecode(bytes);
  annals::fuzz::CheckRoundTrip(bytes);
  if (size > 0) annals::fuzz::CheckForgedResume(bytes.substr(1), data[0]);
  return 0;
}
