// Bearer tokens: how they are made and how they are stored. annalsd keeps
// only a token's SHA-256 (the --auth-tokens file holds "name role digest"
// lines), so that the file does not hold the secrets it checks.
#ifndef ANNALS_SERVICES_AUTH_TOKEN_H_
#define ANNALS_SERVICES_AUTH_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::auth {

// Prefix of every token NewToken makes, so that a leaked one is recognisable
// (secret scanners, logs).
inline constexpr absl::string_view kTokenPrefix = "annals_";

// A new random token: kTokenPrefix and 32 random bytes from OpenSSL's CSPRNG
// in unpadded base64url (50 characters). INTERNAL when the CSPRNG fails.
absl::StatusOr<std::string> NewToken();

// The SHA-256 of `token` as 64 lowercase hex digits: what the tokens file
// holds for it.
std::string TokenDigestHex(absl::string_view token);

// The same digest as its 32 raw bytes.
std::string TokenDigest(absl::string_view token);

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_TOKEN_H_
