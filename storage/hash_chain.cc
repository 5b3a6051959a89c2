#include "storage/hash_chain.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "storage/format.h"

namespace annals::storage {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// OpenSSL fails here only when it cannot allocate; there is no sensible way
// to go on computing a chain without a hash, so this aborts like new does.
[[noreturn]] void DigestFailed() {
  std::fputs("annals: OpenSSL SHA-256 failed\n", stderr);
  std::abort();
}

// SHA-256's implementation, fetched once: given EVP_sha256() instead,
// OpenSSL 3 fetches it again at every EVP_DigestInit_ex (EVP_MD_fetch was
// 2% of the log writer's CPU at 64 single-event append sessions).
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  if (kSha256 == nullptr) DigestFailed();
  return kSha256;
}

}  // namespace

std::string ZeroHash() { return std::string(format::kHashSize, '\0'); }

std::string Sha256Of(std::initializer_list<absl::string_view> pieces) {
  // One digest context per thread, reused.
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), Sha256Algorithm(), nullptr) != 1) {
    DigestFailed();
  }
  for (absl::string_view piece : pieces) {
    if (EVP_DigestUpdate(ctx.get(), piece.data(), piece.size()) != 1) {
      DigestFailed();
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 ||
      size != format::kHashSize) {
    DigestFailed();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string Sha256(absl::string_view data) { return Sha256Of({data}); }

std::string ChainHash(absl::string_view previous, absl::string_view stored) {
  return Sha256Of({previous, stored});
}

}  // namespace annals::storage
