// The Merkle tree functions (storage/merkle.h): known vectors, every proof
// of every tree size 1..200 checked by an independent Python verifier, and
// rejection of altered proofs.
#include "storage/merkle.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage::merkle {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }
std::string Unhex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// A tree kept in memory the way the log keeps it: the frontier plus every
// completed perfect subtree.
class MemoryTree {
 public:
  void Add(absl::string_view data) {
    Append(&frontier_, LeafHash(data), [&](const CompletedNode& node) {
      nodes_[{node.level, node.index}] = node.hash;
    });
  }
  // Fetches nodes, failing the test when a proof for `size` asks for a
  // subtree that is not complete at that size.
  NodeFetcher FetcherAt(uint64_t size) const {
    return [this, size](int level, uint64_t index) -> absl::StatusOr<std::string> {
      EXPECT_LE((index + 1) << level, size) << "level " << level << " index " << index;
      auto it = nodes_.find({level, index});
      if (it == nodes_.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
  const Frontier& frontier() const { return frontier_; }

 private:
  Frontier frontier_;
  std::map<std::pair<int, uint64_t>, std::string> nodes_;
};

std::vector<std::string> Unhexes(const std::vector<std::string>& hexes) {
  std::vector<std::string> out;
  for (const std::string& h : hexes) out.push_back(Unhex(h));
  return out;
}

// certificate-transparency's test leaves (used by RFC 6962 implementations,
// e.g. certificate-transparency-go's testonly package and trillian).
const std::vector<std::string>& CtLeaves() {
  static const auto* const kLeaves = new std::vector<std::string>{
      "", Unhex("00"), Unhex("10"), Unhex("2021"), Unhex("3031"),
      Unhex("40414243"), Unhex("5051525354555657"),
      Unhex("606162636465666768696a6b6c6d6e6f")};
  return *kLeaves;
}

const char* const kCtRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

MemoryTree CtTree() {
  MemoryTree tree;
  for (const std::string& leaf : CtLeaves()) tree.Add(leaf);
  return tree;
}

TEST(MerkleVectorsTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(Hex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootOf(Frontier{}), EmptyRoot());
}

TEST(MerkleVectorsTest, RootsOfEveryPrefixOfTheCtLeaves) {
  MemoryTree tree;
  for (size_t n = 1; n <= CtLeaves().size(); ++n) {
    tree.Add(CtLeaves()[n - 1]);
    EXPECT_EQ(Hex(RootOf(tree.frontier())), kCtRoots[n - 1]) << n;
    absl::StatusOr<std::string> root = RootAt(n, tree.FetcherAt(n));
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(Hex(*root), kCtRoots[n - 1]);
  }
}

TEST(MerkleVectorsTest, CtInclusionProofs) {
  const MemoryTree tree = CtTree();
  struct Case {
    uint64_t index, size;
    std::vector<std::string> path;
  };
  const Case cases[] = {
      {0, 1, {}},
      {0, 8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5, 8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<std::string>> proof =
        InclusionProof(c.index, c.size, tree.FetcherAt(c.size));
    ASSERT_THAT(proof, IsOk());
    EXPECT_EQ(*proof, Unhexes(c.path)) << c.index << " of " << c.size;
    EXPECT_THAT(VerifyInclusion(LeafHash(CtLeaves()[c.index]), c.index, c.size,
                                *proof, Unhex(kCtRoots[c.size - 1])),
                IsOk());
  }
}

TEST(MerkleVectorsTest, CtConsistencyProofs) {
  const MemoryTree tree = CtTree();
  struct Case {
    uint64_t old_size, new_size;
    std::vector<std::string> proof;
  };
  const Case cases[] = {
      {1, 1, {}},
      {1, 8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<std::string>> proof =
        ConsistencyProof(c.old_size, c.new_size, tree.FetcherAt(c.new_size));
    ASSERT_THAT(proof, IsOk());
    EXPECT_EQ(*proof, Unhexes(c.proof)) << c.old_size << " -> " << c.new_size;
    EXPECT_THAT(VerifyConsistency(c.old_size, c.new_size,
                                  Unhex(kCtRoots[c.old_size - 1]),
                                  Unhex(kCtRoots[c.new_size - 1]), *proof),
                IsOk());
  }
}

TEST(MerkleFrontierTest, EncodeDecodeRoundTrips) {
  MemoryTree tree;
  for (int i = 0; i < 13; ++i) tree.Add(absl::StrCat("e", i));
  const std::string bytes = EncodeFrontier(tree.frontier());
  EXPECT_EQ(bytes.size(), 8u + 32u * 3);  // 13 = 8 + 4 + 1
  absl::StatusOr<Frontier> decoded = DecodeFrontier(bytes);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->size, 13u);
  EXPECT_EQ(decoded->nodes, tree.frontier().nodes);
  EXPECT_THAT(DecodeFrontier(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MerkleProofTest, BadArgumentsAreRejected) {
  const MemoryTree tree = CtTree();
  EXPECT_THAT(InclusionProof(8, 8, tree.FetcherAt(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(0, 8, tree.FetcherAt(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(5, 4, tree.FetcherAt(5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Every tree size 1..200, every leaf index and every old size: annals'
// roots and proofs verify with annals' verifier, an altered proof does not,
// and the independent Python verifier agrees with every one of them.
TEST(MerkleProofTest, EveryProofUpTo200LeavesMatchesAnIndependentVerifier) {
  constexpr uint64_t kMax = 200;
  MemoryTree tree;
  std::vector<std::string> leaves;
  std::vector<std::string> roots(1, EmptyRoot());
  for (uint64_t i = 0; i < kMax; ++i) {
    leaves.push_back(absl::StrCat("event-", i, std::string(i % 7, 'x')));
    tree.Add(leaves.back());
    roots.push_back(RootOf(tree.frontier()));
  }
  const std::string file = ::testing::TempDir() + "/merkle_proofs.txt";
  std::ofstream out(file);
  for (uint64_t i = 0; i < kMax; ++i) {
    out << "leaf " << i << " " << Hex(leaves[i]) << "\n";
  }
  auto join = [](const std::vector<std::string>& proof) {
    if (proof.empty()) return std::string("-");
    std::vector<std::string> hexes;
    for (const std::string& h : proof) hexes.push_back(Hex(h));
    return absl::StrJoin(hexes, ",");
  };
  int failures = 0;
  for (uint64_t size = 1; size <= kMax && failures < 5; ++size) {
    const NodeFetcher fetch = tree.FetcherAt(size);
    absl::StatusOr<std::string> root = RootAt(size, fetch);
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(*root, roots[size]) << size;
    out << "root " << size << " " << Hex(*root) << "\n";
    for (uint64_t index = 0; index < size; ++index) {
      absl::StatusOr<std::vector<std::string>> proof =
          InclusionProof(index, size, fetch);
      ASSERT_THAT(proof, IsOk());
      out << "incl " << index << " " << size << " " << join(*proof) << "\n";
      const std::string leaf = LeafHash(leaves[index]);
      if (!VerifyInclusion(leaf, index, size, *proof, *root).ok()) ++failures;
      if (!proof->empty()) {
        std::vector<std::string> altered = *proof;
        altered[index % altered.size()][3] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaf, index, size, altered, *root).ok());
      }
      EXPECT_FALSE(VerifyInclusion(LeafHash("other"), index, size, *proof, *root).ok());
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      absl::StatusOr<std::vector<std::string>> proof =
          ConsistencyProof(old_size, size, fetch);
      ASSERT_THAT(proof, IsOk());
      out << "cons " << old_size << " " << size << " " << join(*proof) << "\n";
      if (!VerifyConsistency(old_size, size, roots[old_size], roots[size], *proof)
               .ok()) {
        ++failures;
      }
      if (old_size < size) {
        EXPECT_FALSE(VerifyConsistency(old_size, size, roots[old_size],
                                       roots[size - 1], *proof)
                         .ok());
        std::vector<std::string> altered = *proof;
        altered.back()[0] ^= 1;
        EXPECT_FALSE(VerifyConsistency(old_size, size, roots[old_size],
                                       roots[size], altered)
                         .ok());
      }
    }
  }
  EXPECT_EQ(failures, 0);
  out.close();
  const std::string command = absl::StrCat(
      "python3 ", VERIFY_PROOFS_PY, " ", file, " > ", file, ".out 2>&1");
  const int rc = std::system(command.c_str());
  std::ifstream result(file + ".out");
  std::string report((std::istreambuf_iterator<char>(result)),
                     std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << report;
  // 200 roots, 20100 inclusion proofs, 20100 consistency proofs.
  EXPECT_EQ(report, "OK 40400\n");
  if (!::testing::Test::HasFailure()) {  // else kept to be looked at
    std::remove(file.c_str());
    std::remove((file + ".out").c_str());
  }
}

}  // namespace
}  // namespace annals::storage::merkle
