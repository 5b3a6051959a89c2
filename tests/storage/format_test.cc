#include "storage/format.h"

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace annals::storage::format {
namespace {

int Memcmp(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

template <typename T>
int Compare(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

TEST(FormatTest, BigEndianRoundTripsAndIsEightBytes) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{0x0102030405060708},
                     std::numeric_limits<uint64_t>::max()}) {
    const std::string key = EventKey(v);
    ASSERT_EQ(key.size(), 8u);
    uint64_t parsed = 0;
    ASSERT_TRUE(ParseEventKey(key, &parsed));
    EXPECT_EQ(parsed, v);
  }
  EXPECT_EQ(EventKey(0x0102030405060708), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  uint64_t ignored;
  EXPECT_FALSE(ParseEventKey("1234567", &ignored));
  EXPECT_FALSE(ParseEventKey("123456789", &ignored));
}

TEST(FormatTest, PositionKeysSortInNumericOrder) {
  std::mt19937_64 rng(20020917);
  std::vector<uint64_t> values = {0, 1, 255, 256, 65535, 65536,
                                  std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 200; ++i) values.push_back(rng());
  for (int i = 0; i < 200; ++i) values.push_back(rng() % 1000);
  for (uint64_t a : values) {
    for (uint64_t b : values) {
      ASSERT_EQ(Memcmp(EventKey(a), EventKey(b)), Compare(a, b))
          << a << " vs " << b;
    }
  }
}

TEST(FormatTest, StreamKeysSortByStreamThenVersion) {
  // A stream that is a prefix of another sorts first, whatever the versions.
  EXPECT_LT(Memcmp(StreamKey("AB", std::numeric_limits<uint64_t>::max()),
                   StreamKey("ABC", 0)),
            0);
  EXPECT_LT(Memcmp(StreamKey("AB", 255), StreamKey("AB", 256)), 0);

  std::mt19937_64 rng(1);
  const std::vector<std::string> streams = {"A", "AB", "ABC", "AC", "B",
                                            "JPN-PRK", "JPN-PRKA", "USA-PRK"};
  std::vector<std::pair<std::string, uint64_t>> keys;
  for (int i = 0; i < 300; ++i) {
    uint64_t version = (i % 2 == 0) ? rng() : rng() % 300;
    keys.emplace_back(streams[rng() % streams.size()], version);
  }
  for (const auto& a : keys) {
    for (const auto& b : keys) {
      ASSERT_EQ(Memcmp(StreamKey(a.first, a.second),
                       StreamKey(b.first, b.second)),
                Compare(a, b))
          << a.first << "/" << a.second << " vs " << b.first << "/"
          << b.second;
    }
  }
}

TEST(FormatTest, StreamKeyRoundTrips) {
  const std::string key = StreamKey("JPN-PRK", 42);
  EXPECT_EQ(key, std::string("JPN-PRK\0\0\0\0\0\0\0\0\x2a", 16));
  absl::string_view stream;
  uint64_t version = 0;
  ASSERT_TRUE(ParseStreamKey(key, &stream, &version));
  EXPECT_EQ(stream, "JPN-PRK");
  EXPECT_EQ(version, 42u);
  EXPECT_TRUE(absl::string_view(key).substr(0, 8) == StreamPrefix("JPN-PRK"));
  EXPECT_FALSE(ParseStreamKey("short", &stream, &version));
  EXPECT_FALSE(ParseStreamKey(std::string("JPN-PRKX\0\0\0\0\0\0\0\x2a", 16),
                              &stream, &version));
}

TEST(FormatTest, EventValueIsHashThenStoredBytes) {
  const std::string hash(kHashSize, '\x07');
  const std::string value = EventValue(hash, "stored");
  EXPECT_EQ(value, hash + "stored");
  absl::string_view parsed_hash, stored;
  ASSERT_TRUE(ParseEventValue(value, &parsed_hash, &stored));
  EXPECT_EQ(parsed_hash, hash);
  EXPECT_EQ(stored, "stored");
  EXPECT_FALSE(ParseEventValue(std::string(31, 'x'), &parsed_hash, &stored));
}

TEST(FormatTest, PersistedNamesAreStable) {
  // Renaming any of these makes existing databases unreadable.
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kEvents), "events");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kStreams), "streams");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kEventIds), "event_ids");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kMeta), "meta");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kDyadTimeline), "dyad_timeline");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kRelationships), "relationships");
  EXPECT_EQ(kMetaFormatVersion, "format_version");
  EXPECT_EQ(kMetaHeadPosition, "head_position");
  EXPECT_EQ(kMetaHeadHash, "head_hash");
  EXPECT_EQ(kFormatVersion, 1u);
}

}  // namespace
}  // namespace annals::storage::format
