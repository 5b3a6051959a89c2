#include "storage/hash_chain.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace annals::storage {
namespace {

std::string Hex(const std::string& bytes) {
  return absl::BytesToHexString(bytes);
}

TEST(HashChainTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashChainTest, ZeroHashIs32ZeroBytes) {
  EXPECT_EQ(ZeroHash(), std::string(32, '\0'));
}

TEST(HashChainTest, ChainOfThreeMatchesIndependentComputation) {
  const std::string h1 = ChainHash(ZeroHash(), "first");
  const std::string h2 = ChainHash(h1, "second");
  const std::string h3 = ChainHash(h2, "third");
  // The same chain as SHA-256 of explicit concatenations.
  EXPECT_EQ(h1, Sha256(ZeroHash() + "first"));
  EXPECT_EQ(h2, Sha256(Sha256(ZeroHash() + "first") + "second"));
  EXPECT_EQ(h3, Sha256(Sha256(Sha256(ZeroHash() + "first") + "second") +
                       "third"));
  // And as computed outside this code (Python hashlib), pinning the format.
  EXPECT_EQ(Hex(h1),
            "3db4b4eb1df29e1585bc017b9194e30e583d7dbe9e2a7513a58442c6d4ac96bc");
  EXPECT_EQ(Hex(h2),
            "de1e86981ce97f7ca334a50ce77d42ace7c020d4c3d4dd9aa6185f4fd8bf40a0");
  EXPECT_EQ(Hex(h3),
            "2f45bdc03602659dd79ae256b5f327017cc272eb867039bbfe93228855cfd3b3");
}

TEST(HashChainTest, OrderOfLinksMatters) {
  EXPECT_NE(ChainHash(ChainHash(ZeroHash(), "a"), "b"),
            ChainHash(ChainHash(ZeroHash(), "b"), "a"));
}

}  // namespace
}  // namespace annals::storage
