#include "storage/merkle.h"

#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/status_macros.h"

namespace annals::storage::merkle {
namespace {

constexpr size_t kHashSize = format::kHashSize;

// SHA-256(prefix || a || b).
std::string Hash3(char prefix, absl::string_view a, absl::string_view b) {
  return Sha256Of({absl::string_view(&prefix, 1), a, b});
}

// The largest power of two strictly below n. Requires: n >= 2.
uint64_t SplitPoint(uint64_t n) {
  return uint64_t{1} << (63 - std::countl_zero(n - 1));
}

// MTH of leaves [lo, hi). Requires: lo < hi and lo is a multiple of the
// largest power of two <= hi - lo (true of every range the RFC's recursions
// visit), so that the range is the perfect subtrees of the binary
// decomposition of hi - lo, folded from the right.
absl::StatusOr<std::string> SubtreeHash(uint64_t lo, uint64_t hi,
                                        const NodeFetcher& fetch) {
  std::vector<std::string> pieces;
  uint64_t at = lo;
  const uint64_t n = hi - lo;
  for (int level = 63; level >= 0; --level) {
    if ((n >> level & 1) == 0) continue;
    ASSIGN_OR_RETURN(std::string piece, fetch(level, at >> level));
    if (piece.size() != kHashSize) {
      return absl::DataLossError(absl::StrCat("merkle node (", level, ", ",
                                              at >> level, ") is not 32 bytes"));
    }
    pieces.push_back(std::move(piece));
    at += uint64_t{1} << level;
  }
  std::string hash = std::move(pieces.back());
  for (size_t i = pieces.size() - 1; i-- > 0;) hash = NodeHash(pieces[i], hash);
  return hash;
}

// PATH(m, D[lo:hi]) appended to *out. m is relative to lo.
absl::Status Path(uint64_t m, uint64_t lo, uint64_t hi,
                  const NodeFetcher& fetch, std::vector<std::string>* out) {
  const uint64_t n = hi - lo;
  if (n == 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(Path(m, lo, lo + k, fetch, out));
    ASSIGN_OR_RETURN(std::string right, SubtreeHash(lo + k, hi, fetch));
    out->push_back(std::move(right));
  } else {
    RETURN_IF_ERROR(Path(m - k, lo + k, hi, fetch, out));
    ASSIGN_OR_RETURN(std::string left, SubtreeHash(lo, lo + k, fetch));
    out->push_back(std::move(left));
  }
  return absl::OkStatus();
}

// SUBPROOF(m, D[lo:hi], b) appended to *out. m is relative to lo.
absl::Status SubProof(uint64_t m, uint64_t lo, uint64_t hi, bool b,
                      const NodeFetcher& fetch, std::vector<std::string>* out) {
  const uint64_t n = hi - lo;
  if (m == n) {
    if (!b) {
      ASSIGN_OR_RETURN(std::string whole, SubtreeHash(lo, hi, fetch));
      out->push_back(std::move(whole));
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(m, lo, lo + k, b, fetch, out));
    ASSIGN_OR_RETURN(std::string right, SubtreeHash(lo + k, hi, fetch));
    out->push_back(std::move(right));
  } else {
    RETURN_IF_ERROR(SubProof(m - k, lo + k, hi, false, fetch, out));
    ASSIGN_OR_RETURN(std::string left, SubtreeHash(lo, lo + k, fetch));
    out->push_back(std::move(left));
  }
  return absl::OkStatus();
}

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(why);
}

}  // namespace

std::string LeafHash(absl::string_view data) { return Hash3(0x00, data, {}); }

std::string NodeHash(absl::string_view left, absl::string_view right) {
  return Hash3(0x01, left, right);
}

std::string EmptyRoot() {
  static const std::string* const kEmpty = new std::string(Sha256Of({}));
  return *kEmpty;
}

void Append(Frontier* frontier, absl::string_view leaf_hash,
            const std::function<void(const CompletedNode&)>& completed) {
  CompletedNode node{0, frontier->size, std::string(leaf_hash)};
  completed(node);
  // Each trailing set bit of the old size is a subtree of the same level as
  // the node being carried: merge them, like binary addition.
  while (node.index & 1) {
    node.hash = NodeHash(frontier->nodes.back().hash, node.hash);
    frontier->nodes.pop_back();
    ++node.level;
    node.index >>= 1;
    completed(node);
  }
  frontier->nodes.push_back({node.level, std::move(node.hash)});
  ++frontier->size;
}

std::string RootOf(const Frontier& frontier) {
  if (frontier.nodes.empty()) return EmptyRoot();
  std::string hash = frontier.nodes.back().hash;
  for (size_t i = frontier.nodes.size() - 1; i-- > 0;) {
    hash = NodeHash(frontier.nodes[i].hash, hash);
  }
  return hash;
}

std::string EncodeFrontier(const Frontier& frontier) {
  std::string bytes;
  bytes.reserve(8 + kHashSize * frontier.nodes.size());
  format::PutBigEndian64(&bytes, frontier.size);
  for (const FrontierNode& node : frontier.nodes) bytes.append(node.hash);
  return bytes;
}

absl::StatusOr<Frontier> DecodeFrontier(absl::string_view bytes) {
  Frontier frontier;
  if (bytes.size() < 8) return Invalid("merkle frontier shorter than 8 bytes");
  frontier.size = format::DecodeBigEndian64(bytes.data());
  const size_t count = static_cast<size_t>(std::popcount(frontier.size));
  if (bytes.size() != 8 + kHashSize * count) {
    return Invalid(absl::StrCat("merkle frontier of size ", frontier.size,
                                " must be ", 8 + kHashSize * count,
                                " bytes, is ", bytes.size()));
  }
  size_t offset = 8;
  for (int level = 63; level >= 0; --level) {
    if ((frontier.size >> level & 1) == 0) continue;
    frontier.nodes.push_back(
        {level, std::string(bytes.substr(offset, kHashSize))});
    offset += kHashSize;
  }
  return frontier;
}

absl::StatusOr<std::string> RootAt(uint64_t size, const NodeFetcher& fetch) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(0, size, fetch);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(
    uint64_t index, uint64_t size, const NodeFetcher& fetch) {
  if (index >= size) {
    return Invalid(absl::StrCat("leaf index ", index,
                                " is not below the tree size ", size));
  }
  std::vector<std::string> proof;
  RETURN_IF_ERROR(Path(index, 0, size, fetch, &proof));
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    uint64_t old_size, uint64_t new_size, const NodeFetcher& fetch) {
  if (old_size == 0 || old_size > new_size) {
    return Invalid(absl::StrCat("no consistency proof from size ", old_size,
                                " to size ", new_size,
                                " (need 0 < old size <= new size)"));
  }
  std::vector<std::string> proof;
  RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, fetch, &proof));
  return proof;
}

absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t index,
                             uint64_t size,
                             const std::vector<std::string>& proof,
                             absl::string_view root) {
  if (index >= size) {
    return Invalid(absl::StrCat("leaf index ", index,
                                " is not below the tree size ", size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (p.size() != kHashSize) return Invalid("proof hash is not 32 bytes");
    if (sn == 0) return Invalid("inclusion proof is too long");
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("inclusion proof is too short");
  if (r != root) {
    return Invalid("inclusion proof does not lead to the tree head's root");
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::string_view old_root,
                               absl::string_view new_root,
                               const std::vector<std::string>& proof) {
  if (old_size > new_size) {
    return Invalid(absl::StrCat("old size ", old_size,
                                " is larger than new size ", new_size));
  }
  if (old_size == 0) {
    if (!proof.empty()) return Invalid("consistency proof from 0 must be empty");
    return absl::OkStatus();
  }
  if (old_size == new_size) {
    if (!proof.empty()) {
      return Invalid("consistency proof between equal sizes must be empty");
    }
    if (old_root != new_root) {
      return Invalid("roots of the same tree size differ");
    }
    return absl::OkStatus();
  }
  if (proof.empty()) return Invalid("consistency proof is empty");
  for (const std::string& p : proof) {
    if (p.size() != kHashSize) return Invalid("proof hash is not 32 bytes");
  }
  std::vector<std::string> path;
  path.reserve(proof.size() + 1);
  // A power-of-two old tree is itself a node of the new one: its root
  // starts the path.
  if (std::has_single_bit(old_size)) path.emplace_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return Invalid("consistency proof is too long");
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("consistency proof is too short");
  if (fr != old_root) {
    return Invalid("consistency proof does not lead to the old root");
  }
  if (sr != new_root) {
    return Invalid("consistency proof does not lead to the new root");
  }
  return absl::OkStatus();
}

}  // namespace annals::storage::merkle
