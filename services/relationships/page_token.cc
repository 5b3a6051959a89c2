#include "services/relationships/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "proto/rpc_status.h"
#include "storage/format.h"

namespace annals::services {
namespace {

constexpr char kTokenVersion = 0x01;
// The version byte and the fingerprint, before the key.
constexpr size_t kKeyOffset = 9;

}  // namespace

std::string EncodePageToken(uint64_t fingerprint, absl::string_view key) {
  std::string raw(1, kTokenVersion);
  storage::format::PutBigEndian64(&raw, fingerprint);
  raw.append(key.data(), key.size());
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            uint64_t fingerprint,
                                            absl::string_view prefix) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kKeyOffset ||
      raw[0] != kTokenVersion ||
      !absl::StartsWith(absl::string_view(raw).substr(kKeyOffset), prefix)) {
    return rpc::InvalidArgument(
        {{"page_token",
          "is not a page token of this service; pass next_page_token from "
          "the previous page unchanged"}});
  }
  if (storage::format::DecodeBigEndian64(raw.data() + 1) != fingerprint) {
    return rpc::InvalidArgument(
        {{"page_token",
          "was issued for a different query; every field but page_size and "
          "page_token must equal the first page's"}});
  }
  return raw.substr(kKeyOffset);
}

}  // namespace annals::services
