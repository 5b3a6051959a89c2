// The on-disk format of the RocksDB event log (format version 1).
//
// One RocksDB database; one column family per kind of record. Every integer
// in a key or value is a fixed-width 8-byte big-endian unsigned integer
// ("BE64"), so that the bytewise order of keys is their numeric order.
//
//   column family   key                                  value
//   -------------   ----------------------------------   -------------------
//   events          BE64 position (1, 2, 3, ...)         hash[32] || stored
//   streams         stream || 0x00 || BE64 version       BE64 position
//   event_ids       event id (1..128 bytes, no 0x00)     BE64 position
//   meta            "format_version"                     BE64 kFormatVersion
//                   "head_position"                      BE64 position
//                   "head_hash"                          hash[32]
//   dyad_timeline   reserved (created empty; no format yet)
//   relationships   reserved (created empty; no format yet)
//
// events value: the first 32 bytes are the chain hash of the position,
//   SHA-256(chain hash of position-1 || stored), with 32 zero bytes before
//   position 1 (see hash_chain.h). `stored` is the rest of the value: the
//   annals.v1.RecordedEvent of the position serialized once, at commit, with
//   `hash` unset. Those exact bytes are hashed and returned; they are never
//   re-serialized.
// streams key: stream names never contain 0x00, so the 0x00 terminator makes
//   "AB" sort before "ABC" and keeps each stream's versions contiguous and in
//   numeric order. Version 1 is a stream's first event.
// meta: written in the same WriteBatch as the events of every commit, so the
//   head (position and chain hash of the last event) always matches the
//   events column family. A database without "format_version" is new.
//   Position 0 / 32 zero bytes is the head of an empty log.
//
// Column family names are persisted: they never change. The enum values
// below are in-memory indexes only (the order of the handles), not persisted.
#ifndef ANNALS_STORAGE_FORMAT_H_
#define ANNALS_STORAGE_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace annals::storage::format {

// The format this build writes and the only one it reads.
inline constexpr uint64_t kFormatVersion = 1;

// Size of a chain hash (SHA-256).
inline constexpr size_t kHashSize = 32;

enum class ColumnFamily : int {
  kDefault = 0,  // RocksDB's own; unused by annals
  kEvents = 1,
  kStreams = 2,
  kEventIds = 3,
  kMeta = 4,
  kDyadTimeline = 5,   // reserved for the dyad timeline projection
  kRelationships = 6,  // reserved for the relationship projection
};
inline constexpr int kNumColumnFamilies = 7;

// Indexed by ColumnFamily. Persisted: never change a name.
inline constexpr std::array<absl::string_view, kNumColumnFamilies>
    kColumnFamilyNames = {"default", "events",        "streams",      "event_ids",
                          "meta",    "dyad_timeline", "relationships"};

inline absl::string_view ColumnFamilyName(ColumnFamily cf) {
  return kColumnFamilyNames[static_cast<int>(cf)];
}

// Keys of the meta column family.
inline constexpr absl::string_view kMetaFormatVersion = "format_version";
inline constexpr absl::string_view kMetaHeadPosition = "head_position";
inline constexpr absl::string_view kMetaHeadHash = "head_hash";

// --- Fixed-width integers ---

// Appends `value` as 8 bytes, most significant first.
inline void PutBigEndian64(std::string* dst, uint64_t value) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  dst->append(buf, sizeof(buf));
}

// Requires: `src` points at 8 readable bytes.
inline uint64_t DecodeBigEndian64(const char* src) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(src[i]);
  }
  return value;
}

inline std::string EncodeBigEndian64(uint64_t value) {
  std::string s;
  PutBigEndian64(&s, value);
  return s;
}

// False unless `src` is exactly 8 bytes.
inline bool ParseBigEndian64(absl::string_view src, uint64_t* value) {
  if (src.size() != 8) return false;
  *value = DecodeBigEndian64(src.data());
  return true;
}

// --- events ---

inline std::string EventKey(uint64_t position) {
  return EncodeBigEndian64(position);
}

inline bool ParseEventKey(absl::string_view key, uint64_t* position) {
  return ParseBigEndian64(key, position);
}

// hash[32] || stored. Requires: hash.size() == kHashSize.
inline std::string EventValue(absl::string_view hash, absl::string_view stored) {
  std::string value;
  value.reserve(hash.size() + stored.size());
  value.append(hash.data(), hash.size());
  value.append(stored.data(), stored.size());
  return value;
}

// Splits an events value. False when it is shorter than a hash. The views
// point into `value`.
inline bool ParseEventValue(absl::string_view value, absl::string_view* hash,
                            absl::string_view* stored) {
  if (value.size() < kHashSize) return false;
  *hash = value.substr(0, kHashSize);
  *stored = value.substr(kHashSize);
  return true;
}

// --- streams ---

// stream || 0x00: the common prefix of every key of `stream`.
inline std::string StreamPrefix(absl::string_view stream) {
  std::string key(stream);
  key.push_back('\0');
  return key;
}

// Requires: `stream` contains no 0x00.
inline std::string StreamKey(absl::string_view stream, uint64_t version) {
  std::string key = StreamPrefix(stream);
  PutBigEndian64(&key, version);
  return key;
}

// False when `key` is not a well-formed streams key. `stream` points into
// `key`.
inline bool ParseStreamKey(absl::string_view key, absl::string_view* stream,
                           uint64_t* version) {
  if (key.size() < 9 || key[key.size() - 9] != '\0') return false;
  *stream = key.substr(0, key.size() - 9);
  if (stream->find('\0') != absl::string_view::npos) return false;
  *version = DecodeBigEndian64(key.data() + key.size() - 8);
  return true;
}

}  // namespace annals::storage::format

#endif  // ANNALS_STORAGE_FORMAT_H_
