// The RFC 6962 (RFC 9162 §2.1) Merkle tree over the log.
//
//   leaf hash  = SHA-256(0x00 || stored bytes of the position)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256("")                      (the empty tree)
//
// Leaf index i is log position i + 1; the tree of size n covers positions
// 1 ... n, so the tree of the log is the tree of size head.position.
//
// Vocabulary used below:
//   - A *perfect subtree* (level l, index j) is the complete subtree over
//     leaves [j * 2^l, (j + 1) * 2^l). Level 0 holds the leaf hashes. Once a
//     tree has reached size (j + 1) * 2^l this hash never changes: the log
//     stores every one of them (format.h, column family merkle) and proofs
//     are built from them alone.
//   - The *frontier* of a tree of size n is the list of the perfect subtrees
//     the binary decomposition of n cuts it into, largest (leftmost) first:
//     one per set bit of n, so at most 64. Appending a leaf needs only the
//     frontier; the root is the frontier folded from the right.
//
// Everything here is a pure function, thread-safe. Proof construction reads
// perfect-subtree hashes through a callback, so the same code serves the
// RocksDB log and in-memory tests; verification needs nothing but hashes
// and is what an auditor runs without trusting the server.
#ifndef ANNALS_STORAGE_MERKLE_H_
#define ANNALS_STORAGE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::storage::merkle {

// SHA-256(0x00 || data). 32 bytes.
std::string LeafHash(absl::string_view data);

// SHA-256(0x01 || left || right). 32 bytes.
std::string NodeHash(absl::string_view left, absl::string_view right);

// SHA-256(""): the root of the empty tree (e3b0c442...).
std::string EmptyRoot();

// One perfect subtree of a frontier.
struct FrontierNode {
  int level = 0;
  std::string hash;  // 32 bytes
  friend bool operator==(const FrontierNode&, const FrontierNode&) = default;
};

// The frontier of a tree of `size` leaves, largest subtree first.
struct Frontier {
  uint64_t size = 0;
  std::vector<FrontierNode> nodes;
};

// A perfect subtree that completed while appending a leaf.
struct CompletedNode {
  int level = 0;
  uint64_t index = 0;
  std::string hash;
};

// Appends the leaf whose leaf hash is `leaf_hash` (leaf index
// frontier->size) and calls `completed` for every perfect subtree the
// append completes, from level 0 (the leaf itself) upwards: on average two
// per leaf. Requires: frontier->size < 2^64 - 1.
void Append(Frontier* frontier, absl::string_view leaf_hash,
            const std::function<void(const CompletedNode&)>& completed);

// The root of the tree the frontier describes (EmptyRoot() when size is 0).
std::string RootOf(const Frontier& frontier);

// The stored form (format.h, meta "merkle_frontier"): BE64 size, then the
// 32-byte hashes largest subtree first; their levels are the set bits of
// size from the highest down.
std::string EncodeFrontier(const Frontier& frontier);
// INVALID_ARGUMENT when `bytes` is not 8 + 32 * popcount(size) bytes.
absl::StatusOr<Frontier> DecodeFrontier(absl::string_view bytes);

// Returns the hash of the perfect subtree (level, index). Must only be asked
// for subtrees complete at the tree size of the proof.
using NodeFetcher =
    std::function<absl::StatusOr<std::string>(int level, uint64_t index)>;

// MTH of leaves [0, size): the root of the tree as it was at `size`, from
// at most 64 perfect subtrees. Errors are the fetcher's.
absl::StatusOr<std::string> RootAt(uint64_t size, const NodeFetcher& fetch);

// The audit path of leaf `index` in the tree of `size` leaves (RFC 6962
// §2.1.1 PATH(m, D[n])), bottom up. INVALID_ARGUMENT unless index < size.
absl::StatusOr<std::vector<std::string>> InclusionProof(
    uint64_t index, uint64_t size, const NodeFetcher& fetch);

// The consistency proof between the trees of `old_size` and `new_size`
// leaves (RFC 6962 §2.1.2 PROOF(m, D[n])). INVALID_ARGUMENT unless
// 0 < old_size <= new_size. Empty when the sizes are equal.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    uint64_t old_size, uint64_t new_size, const NodeFetcher& fetch);

// RFC 9162 §2.1.3.2: OK when `proof` shows that the leaf with `leaf_hash`
// is leaf `index` of the tree of `size` leaves whose root is `root`;
// otherwise INVALID_ARGUMENT saying why.
absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t index,
                             uint64_t size,
                             const std::vector<std::string>& proof,
                             absl::string_view root);

// RFC 9162 §2.1.4.2: OK when `proof` shows that the tree of `old_size`
// leaves with root `old_root` is a prefix of the tree of `new_size` leaves
// with root `new_root`; otherwise INVALID_ARGUMENT saying why. An old size
// of 0 is consistent with everything (and needs an empty proof).
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::string_view old_root,
                               absl::string_view new_root,
                               const std::vector<std::string>& proof);

}  // namespace annals::storage::merkle

#endif  // ANNALS_STORAGE_MERKLE_H_
