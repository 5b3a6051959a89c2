#include "services/audit/signer.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/format.h"
#include "storage/hash_chain.h"

namespace annals::services {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using Bio = std::unique_ptr<BIO, BioDeleter>;

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
}

bool IsEd25519(EVP_PKEY* key) { return EVP_PKEY_is_a(key, "ED25519") == 1; }

absl::StatusOr<std::string> PublicDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) return absl::InternalError("cannot encode the public key");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<Pkey> ParsePublicKey(absl::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("out of memory");
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr || !IsEd25519(key.get())) {
    return absl::InvalidArgumentError(
        "public key: not a PEM Ed25519 public key (\"-----BEGIN PUBLIC "
        "KEY-----\")");
  }
  return key;
}

}  // namespace

struct TreeHeadSigner::Key {
  Pkey pkey;
};

std::string TreeHeadSignedBytes(uint64_t tree_size, absl::string_view root_hash,
                                uint64_t timestamp_unix_micros) {
  std::string bytes(kTreeHeadSignaturePrefix);
  storage::format::PutBigEndian64(&bytes, tree_size);
  bytes.append(root_hash.data(), root_hash.size());
  storage::format::PutBigEndian64(&bytes, timestamp_unix_micros);
  return bytes;
}

TreeHeadSigner::TreeHeadSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {}
TreeHeadSigner::~TreeHeadSigner() = default;

absl::Status TreeHeadSigner::Init() {
  Bio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get()) != 1) {
    return absl::InternalError("cannot write the public key");
  }
  public_key_pem_ = BioContents(bio.get());
  absl::StatusOr<std::string> der = PublicDer(key_->pkey.get());
  if (!der.ok()) return der.status();
  key_id_ = storage::Sha256(*der);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TreeHeadSigner>> TreeHeadSigner::Generate() {
  auto key = std::make_unique<Key>();
  key->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (key->pkey == nullptr) {
    return absl::InternalError("cannot generate an Ed25519 key");
  }
  std::unique_ptr<TreeHeadSigner> signer(new TreeHeadSigner(std::move(key)));
  absl::Status s = signer->Init();
  if (!s.ok()) return s;
  return signer;
}

absl::StatusOr<std::unique_ptr<TreeHeadSigner>> TreeHeadSigner::LoadOrCreate(
    const std::string& path, bool create) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read signing key ", path, ": ", std::strerror(errno)));
    }
    absl::StatusOr<std::unique_ptr<TreeHeadSigner>> signer = Generate();
    if (!signer.ok()) return signer.status();
    Bio bio(BIO_new(BIO_s_mem()));
    if (bio == nullptr ||
        PEM_write_bio_PrivateKey(bio.get(), (*signer)->key_->pkey.get(), nullptr,
                                 nullptr, 0, nullptr, nullptr) != 1) {
      return absl::InternalError("cannot encode the signing key");
    }
    const std::string pem = BioContents(bio.get());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot create signing key ", path, ": ", std::strerror(errno)));
    }
    const bool written =
        ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      return absl::UnavailableError(
          absl::StrCat("cannot write signing key ", path));
    }
    return signer;
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", path,
        " is readable by group or others; chmod 600 it"));
  }
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in) {
    return absl::UnavailableError(absl::StrCat("cannot read signing key ", path));
  }
  const std::string pem = contents.str();
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto key = std::make_unique<Key>();
  if (bio != nullptr) {
    key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (key->pkey == nullptr || !IsEd25519(key->pkey.get())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", path, " is not a PEM Ed25519 private key"));
  }
  std::unique_ptr<TreeHeadSigner> signer(new TreeHeadSigner(std::move(key)));
  absl::Status s = signer->Init();
  if (!s.ok()) return s;
  return signer;
}

absl::StatusOr<v1::SignedTreeHead> TreeHeadSigner::Sign(
    uint64_t tree_size, absl::string_view root_hash,
    uint64_t timestamp_unix_micros) const {
  if (root_hash.size() != storage::format::kHashSize) {
    return absl::InvalidArgumentError("root hash must be 32 bytes");
  }
  const std::string tbs =
      TreeHeadSignedBytes(tree_size, root_hash, timestamp_unix_micros);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t size = sizeof(signature);
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &size,
                     reinterpret_cast<const unsigned char*>(tbs.data()),
                     tbs.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  v1::SignedTreeHead head;
  head.set_tree_size(tree_size);
  head.set_root_hash(std::string(root_hash));
  head.set_timestamp_unix_micros(timestamp_unix_micros);
  head.set_key_id(key_id_);
  head.set_signature(std::string(reinterpret_cast<const char*>(signature), size));
  return head;
}

absl::StatusOr<std::string> KeyIdOfPublicKey(absl::string_view public_key_pem) {
  absl::StatusOr<Pkey> key = ParsePublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> der = PublicDer(key->get());
  if (!der.ok()) return der.status();
  return storage::Sha256(*der);
}

absl::Status VerifyTreeHead(const v1::SignedTreeHead& head,
                            absl::string_view public_key_pem) {
  absl::StatusOr<Pkey> key = ParsePublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> der = PublicDer(key->get());
  if (!der.ok()) return der.status();
  if (head.key_id() != storage::Sha256(*der)) {
    return absl::InvalidArgumentError(
        "tree head was signed by another key (key id differs)");
  }
  if (head.root_hash().size() != storage::format::kHashSize) {
    return absl::InvalidArgumentError("tree head root hash is not 32 bytes");
  }
  const std::string tbs = TreeHeadSignedBytes(
      head.tree_size(), head.root_hash(), head.timestamp_unix_micros());
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1) {
    return absl::InternalError("cannot set up Ed25519 verification");
  }
  if (EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(head.signature().data()),
          head.signature().size(),
          reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature over the tree head of size ", head.tree_size(),
        " does not verify"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TreeHeadTime(const storage::EventLog& log,
                                      uint64_t tree_size) {
  if (tree_size == 0) return 0;
  absl::StatusOr<v1::RecordedEvent> newest = log.GetEventAt(tree_size);
  if (!newest.ok()) return newest.status();
  const google::protobuf::Timestamp& at = newest->recorded_at();
  return static_cast<uint64_t>(at.seconds()) * 1'000'000 +
         static_cast<uint64_t>(at.nanos()) / 1'000;
}

}  // namespace annals::services
