#include "services/auth/authenticator.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/rpc_status.h"
#include "services/auth/token.h"

namespace annals::auth {
namespace {

// The entry whose digest is `digest`, or null. Compares with every entry,
// in constant time each, so that the time taken tells nothing of how much
// of a digest matched.
const TokenEntry* FindToken(const std::vector<TokenEntry>& tokens,
                            const std::string& digest) {
  const TokenEntry* found = nullptr;
  for (const TokenEntry& entry : tokens) {
    if (entry.digest.size() == digest.size() &&
        CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) {
      found = &entry;
    }
  }
  return found;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Load(
    const AuthOptions& options) {
  absl::StatusOr<Principals> principals =
      ReadPrincipals(options.tokens_file, options.certs_file);
  if (!principals.ok()) return principals.status();
  return std::unique_ptr<Authenticator>(
      new Authenticator(options, *std::move(principals)));
}

Authenticator::Authenticator(const AuthOptions& options, Principals principals)
    : options_(options),
      failures_(options.max_failures_per_minute),
      principals_(std::make_shared<const Principals>(std::move(principals))) {}

absl::Status Authenticator::Reload() {
  absl::StatusOr<Principals> principals =
      ReadPrincipals(options_.tokens_file, options_.certs_file);
  if (!principals.ok()) return principals.status();
  auto fresh = std::make_shared<const Principals>(*std::move(principals));
  absl::MutexLock lock(&mu_);
  principals_ = std::move(fresh);
  return absl::OkStatus();
}

size_t Authenticator::tokens() const {
  absl::MutexLock lock(&mu_);
  return principals_->tokens.size();
}

size_t Authenticator::certificates() const {
  absl::MutexLock lock(&mu_);
  return principals_->certificates.size();
}

absl::StatusOr<Principal> Authenticator::Identify(
    const Presented& presented) const {
  std::shared_ptr<const Principals> principals;
  {
    absl::MutexLock lock(&mu_);
    principals = principals_;
  }
  if (presented.authorization.has_value()) {
    absl::string_view value = absl::StripAsciiWhitespace(*presented.authorization);
    constexpr absl::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size() ||
        !absl::StartsWithIgnoreCase(value, kScheme)) {
      return absl::UnauthenticatedError(
          "the authorization header must be 'Bearer TOKEN'");
    }
    const TokenEntry* entry = FindToken(
        principals->tokens,
        TokenDigest(absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()))));
    if (entry == nullptr) {
      return absl::UnauthenticatedError(
          "the bearer token is not known to this server (mistyped, or "
          "revoked)");
    }
    return Principal{absl::StrCat("token:", entry->name), entry->role};
  }
  if (!presented.certificate_subject.empty()) {
    const std::string name =
        absl::StrCat("cert:", presented.certificate_subject);
    auto it = principals->certificates.find(presented.certificate_subject);
    if (it == principals->certificates.end()) {
      return absl::PermissionDeniedError(absl::StrCat(
          name, " has no role: its subject is not in the --auth-certs file"));
    }
    return Principal{name, it->second};
  }
  return absl::UnauthenticatedError(
      "this server requires authentication: send 'authorization: Bearer "
      "TOKEN' (annals --token) or a client certificate");
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const Presented& presented) {
  const absl::Time now = absl::Now();
  if (std::optional<absl::Duration> wait =
          failures_.Refused(presented.peer_address, now)) {
    return rpc::WithRetryDelay(
        rpc::WithErrorInfo(
            absl::StatusCode::kResourceExhausted,
            absl::StrCat("too many failed authentication attempts from ",
                         presented.peer_address, "; try again later"),
            "AUTHENTICATION_FAILURES",
            {{"limit", absl::StrCat(options_.max_failures_per_minute)},
             {"flag", "max-auth-failures-per-minute"}}),
        absl::Ceil(*wait, absl::Seconds(1)));
  }
  absl::StatusOr<Principal> principal = Identify(presented);
  if (principal.status().code() == absl::StatusCode::kUnauthenticated &&
      presented.authorization.has_value()) {
    failures_.Failed(presented.peer_address, now);
  }
  return principal;
}

absl::Status Authorize(const Principal& principal, absl::string_view method) {
  const std::optional<Role> needed = RoleNeeded(method);
  if (!needed.has_value()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " has no access rule; no one may call it"));
  }
  if (Grants(principal.role, *needed)) return absl::OkStatus();
  return rpc::WithErrorInfo(
      absl::StatusCode::kPermissionDenied,
      absl::StrCat(method, " needs the role ", RoleName(*needed), "; ",
                   principal.name, " has the role ",
                   RoleName(principal.role)),
      "ROLE_NEEDED", {{"needed", std::string(RoleName(*needed))},
                      {"held", std::string(RoleName(principal.role))}});
}

}  // namespace annals::auth
