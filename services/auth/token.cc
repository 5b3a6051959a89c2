#include "services/auth/token.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace annals::auth {

absl::StatusOr<std::string> NewToken() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return absl::InternalError("OpenSSL could not make random bytes");
  }
  return absl::StrCat(
      kTokenPrefix,
      absl::WebSafeBase64Escape(absl::string_view(
          reinterpret_cast<const char*>(random), sizeof(random))));
}

std::string TokenDigest(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

std::string TokenDigestHex(absl::string_view token) {
  return absl::BytesToHexString(TokenDigest(token));
}

}  // namespace annals::auth
