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

// SHA-256 of a || b.
std::string Sha256Of2(absl::string_view a, absl::string_view b) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) DigestFailed();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 ||
      size != format::kHashSize) {
    DigestFailed();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

std::string ZeroHash() { return std::string(format::kHashSize, '\0'); }

std::string Sha256(absl::string_view data) { return Sha256Of2(data, {}); }

std::string ChainHash(absl::string_view previous, absl::string_view stored) {
  return Sha256Of2(previous, stored);
}

}  // namespace annals::storage
