// Signed tree heads: Ed25519 keys (OpenSSL 3), the exact bytes a tree head
// signature covers, signing and verifying.
//
// The signed bytes (also documented on annals.v1.SignedTreeHead):
//   "annals-tree-head-v1" 0x00 (20 bytes) || BE64 tree_size ||
//   root_hash[32] || BE64 timestamp_unix_micros              = 68 bytes.
// The key id is SHA-256 of the DER SubjectPublicKeyInfo of the public key.
#ifndef ANNALS_SERVICES_AUDIT_SIGNER_H_
#define ANNALS_SERVICES_AUDIT_SIGNER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/audit.pb.h"
#include "storage/event_log.h"

namespace annals::services {

// The 20-byte domain-separation prefix of the signed bytes.
inline constexpr absl::string_view kTreeHeadSignaturePrefix{
    "annals-tree-head-v1\0", 20};

// The 68 bytes an Ed25519 tree head signature covers. Requires:
// root_hash.size() == 32.
std::string TreeHeadSignedBytes(uint64_t tree_size, absl::string_view root_hash,
                                uint64_t timestamp_unix_micros);

// The time a tree head is signed at: when the log recorded the tree's
// newest event (position tree_size), in microseconds since the Unix epoch;
// 0 for the empty tree. So every signing of one tree with one key gives the
// same bytes: the same server asked twice, or every replica of a cluster
// sharing the key (an export from any replica is byte-identical).
absl::StatusOr<uint64_t> TreeHeadTime(const storage::EventLog& log,
                                      uint64_t tree_size);

// Signs tree heads with one Ed25519 private key. Thread-safe (const).
class TreeHeadSigner {
 public:
  // Loads the PEM (PKCS#8) private key in `path`; when the file does not
  // exist and `create` is set, generates a key and writes it there with
  // permissions 0600 (the file must not exist: O_EXCL). FAILED_PRECONDITION
  // when the file is readable by group or others, or is not an Ed25519 key;
  // UNAVAILABLE when it cannot be read or written, naming the path.
  static absl::StatusOr<std::unique_ptr<TreeHeadSigner>> LoadOrCreate(
      const std::string& path, bool create);

  // A fresh key kept only in memory (tests, servers without a key file).
  static absl::StatusOr<std::unique_ptr<TreeHeadSigner>> Generate();

  ~TreeHeadSigner();
  TreeHeadSigner(const TreeHeadSigner&) = delete;
  TreeHeadSigner& operator=(const TreeHeadSigner&) = delete;

  // The signed head of (tree_size, root_hash) at `timestamp_unix_micros`.
  absl::StatusOr<v1::SignedTreeHead> Sign(uint64_t tree_size,
                                          absl::string_view root_hash,
                                          uint64_t timestamp_unix_micros) const;

  const std::string& public_key_pem() const { return public_key_pem_; }
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key;
  explicit TreeHeadSigner(std::unique_ptr<Key> key);
  absl::Status Init();

  std::unique_ptr<Key> key_;
  std::string public_key_pem_;
  std::string key_id_;
};

// The key id (SHA-256 of the DER SubjectPublicKeyInfo) of a PEM public
// key. INVALID_ARGUMENT when it is not an Ed25519 public key.
absl::StatusOr<std::string> KeyIdOfPublicKey(absl::string_view public_key_pem);

// OK when `head`'s signature verifies with `public_key_pem` (an Ed25519
// public key, PEM) and its key id is that key's; otherwise
// INVALID_ARGUMENT saying which check failed.
absl::Status VerifyTreeHead(const v1::SignedTreeHead& head,
                            absl::string_view public_key_pem);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_AUDIT_SIGNER_H_
