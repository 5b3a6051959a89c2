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
//                   event id || 0x00 || BE64 position    (empty)
//   meta            "format_version"                     BE64 kFormatVersion
//                   "head_position"                      BE64 position
//                   "head_hash"                          hash[32]
//                   "projection_version"                 the Projector's
//                                                        Version(), when the
//                                                        projections are
//                                                        complete
//                   "merkle_frontier"                    BE64 tree size ||
//                                                        hash[32] per set
//                                                        bit of the size
//                   "log_of_record"                      a replica's: the
//                                                        name of the log
//                                                        it replicates
//                   "applied_sequence"                   BE64 (a replica's)
//                   "stream_sequence/" || stream         BE64 (a replica's)
//   dyad_timeline   subject || 0x00 || 0x01 ||            BE64 position of
//                     BE32 first day || BE32 last day ||  the content ||
//                     BE64 position                       kind[1]
//                   dyad || 0x00 || 0x02 || BE64 position (empty)
//                   dyad || 0x00 || 0x03 || facet ||      BE64 position of
//                     fields || BE32 first day ||         the content
//                     BE32 last day || id
//                   subject || 0x00 || 0x04               BE32 days
//                   dyad || 0x00 || 0x05 || BE64 position RelationshipState
//                                                         (a checkpoint)
//                   dyad || 0x00 || 0x06 || BE32 year ||  BE64 position
//                     month[1]
//                   0x01 || BE64 position                 BE64 position
//   relationships   dyad                                  GetRelationship-
//                                                         Response (record)
//                   dyad || 0x00 || 'g' || BE32 year      RelationshipState
//                                                         (a year's months)
//                   dyad || 0x00 || 'r' || body || 0x00   RelationshipState
//                     || BE32 decade                      (its resolutions)
//                   0x01 || BE32 first day || dyad        (empty)
//                   0x02 || BE32 biased index || dyad     (empty)
//   merkle          BE8 level || BE64 index               hash[32]
//   caches          dyad || 0x00 || 0x06 || BE32 year     BE64 position ||
//                                                         hash[32] ||
//                                                         RelationshipState
//                   dyad || 0x00 || 0x07 || BE32 year ||  (the same)
//                     month[1]
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
// event_ids, correction entries: `id || 0x00 || BE64 position` says that
//   the event at `position` is a correction (amend or retract) of the event
//   `id`. Written in the same WriteBatch as the correction. Ids never
//   contain 0x00, so these keys never equal an id, and the prefix
//   `id || 0x00` lists an event's corrections in position order.
// merkle_frontier and merkle: the RFC 6962 Merkle tree over the events
//   (storage/merkle.h; leaf index = position - 1, leaf hash =
//   SHA-256(0x00 || stored bytes of the position), without the chain hash).
//   merkle_frontier is the frontier of the tree of size head_position: the
//   tree size as BE64, then the root of each perfect subtree of the binary
//   decomposition of the size, largest (leftmost) first. The merkle column
//   family holds every complete perfect subtree of kMerkleFirstStoredLevel
//   (2) or above: key (level l, index j) -> the root of leaves
//   [j * 2^l, (j + 1) * 2^l). Subtrees of one or two leaves are not stored:
//   they are hashed again from the events when a proof needs them (at most
//   four events), which halves the tree's writes (half a key per event
//   instead of two). Logs written before that hold levels 0 and 1 too; they
//   are ignored. Each commit writes the subtrees it completes and the new
//   frontier in the same WriteBatch as the events, so tree and log never
//   disagree. Entries are never changed once written.
//   A database with events but no merkle_frontier (written before the tree
//   existed) gets its tree and its correction entries built when it opens;
//   merkle_frontier is written last.
// projection_version: absent while the projections are incomplete (never
//   built, being rebuilt, or the log was written without a projector); the
//   log then rebuilds them on open (storage/event_log.h).
// Backups (storage/rocks_backup.h) are RocksDB BackupEngine directories of
//   the whole database. Each backup's application metadata (BackupEngine's
//   app_metadata) is one line of ASCII, the backed-up log's head:
//     "annals-backup/1 position=<decimal> hash=<64 hex> root=<64 hex>"
//   its head position, the chain hash after it (head_hash) and the Merkle
//   root of the tree of that size, hex in lowercase. Beside BackupEngine's
//   files annalsd writes tree-heads/<backup id>.json, the signed tree head
//   of that size and root (annals.v1.GetTreeHeadResponse in canonical JSON;
//   services/admin/backup.h).
//
// The projection column families belong to the relationship projector
// (services/relationships/projector.h); the log only stores them. In them:
//   - A *subject* is "" (the whole log), an actor code ("PRK") or a dyad
//     ("JPN-PRK"); actor codes start with a letter and never contain 0x00
//     or '-', so the three kinds never share a key prefix.
//   - A *day* is year * 10000 + month * 100 + day (2018-03-05 ->
//     20180305), as BE32. An occurred date is the interval of days it
//     covers (services/model/occurred_interval.h: "2018-03" is 20180301 ...
//     20180331), keyed as its first day then its last day: key order is
//     the projection's occurred order.
//   - The *timeline* entries (tag 0x01) list the effective events (after
//     corrections; retracted events are gone) of each subject by interval,
//     then by the position of the original event: of the whole log, of
//     each dyad, and of an actor only those where it is in none of the
//     event's dyads; an actor's timeline is read by merging those with its
//     dyads' (services/relationships/actor_timeline.h). The value is the
//     position whose stored bytes hold the content: the event's own, or the
//     latest amending correction's; then one byte, the content's kind (the
//     field number of its annals.v1.Event `what`), so that a query by kind
//     skips entries without reading their events.
//   - The *history* entries (tag 0x02) list, per dyad, every position (an
//     event or a correction) that touched the dyad when it was recorded:
//     folding them up to a position gives the state as the log knew it then.
//     The value is kHistoryCorrection for a correction and empty for any
//     other event, so that a reader finds a dyad's corrections without
//     reading its events.
//   - The *refill index* entries (tag 0x03) list, per dyad, the effective
//     events a correction may need to refill the dyad's state with, by
//     facet: 'm' meetings that took place, 'a' agreements, 's'
//     statements, 'x' sanction events per (imposer, measure), 'p' policy
//     changes and 'h' hardening ones per policy, 'r' resolution events per
//     (body, BE32 year). Each field is BE32 length ||
//     bytes; the id ends the key, so a facet is in (occurred interval, id)
//     order (services/relationships/projector.h).
//   - The *longest span* entry (tag 0x04) of a subject is the most days
//     between the first and the last day of any content its timeline ever
//     held (never lowered): a query for the events overlapping a range
//     starts that many days before the range.
//   - The *checkpoint* entries (tag 0x05) of a dyad hold its whole state
//     (annals.v1.RelationshipState, serialized deterministically) as the
//     log knew it at the position in the key, so that a state as of a
//     position starts from the latest checkpoint at or before it and folds
//     only the dyad's history after it. Written every N effective events of
//     the dyad and at each correction that takes out content already
//     folded into the dyad's latest checkpoint, so that the history after a
//     checkpoint never needs content taken out of it
//     (services/relationships/projector.h).
//   - The *month mark* entries (tag 0x06) of a dyad hold, per month (1-12),
//     the latest position that changed the dyad's effective events whose
//     interval ends in that month: an event ending then, or a correction
//     whose previous or new content ends then.
//   - The *latest correction* entries (leading 0x01) map an event's
//     position to the position of its latest correction.
//   - relationships holds each dyad's state (its key starts with a letter):
//     a record of its bounded parts and its index, and entries per year of
//     its Goldstein series and per body and decade of its resolution
//     records, so that a commit
//     rewrites only what it changed (services/relationships/projector.h
//     assembles them); and two orderings of the dyads: by the first day
//     of their last event (0x01) and by their current cooperation-conflict index in tenths
//     (0x02; stored as index + 2^31, so that key order is numeric order).
//
// caches holds what readers derive from the projections and keep for the
// next reader (EventLog::KeepCache), written outside the writer's groups:
// never compared with a rebuild, and dropped by a repair. Its keys start
// with a letter. The *year partials* (tag 0x06) hold, per dyad and year,
// the fold of the dyad's effective events whose interval ends in that
// year (annals.v1.RelationshipState), as the log knew it at the position
// in the value, whose chain hash follows it; the *month partials* (tag
// 0x07) the same per month, for the years with many events; the *through
// partials* (tag 0x08) per dyad and year the merge of its year partials
// through that year, so that a date's earlier years are one read. A
// partial is current while the dyad's month marks of its months (of every
// year through its own, for a through partial) are at most that position
// and the log's chain hash there is the one kept (after a crash that lost
// unsynced appends, other events may hold the position).
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

// The first word of a backup's metadata (see the top of this file).
inline constexpr absl::string_view kBackupMetadataFormat = "annals-backup/1";

enum class ColumnFamily : int {
  kDefault = 0,  // RocksDB's own; unused by annals
  kEvents = 1,
  kStreams = 2,
  kEventIds = 3,
  kMeta = 4,
  kDyadTimeline = 5,   // the relationship projector's timelines
  kRelationships = 6,  // the relationship projector's states
  kMerkle = 7,         // the Merkle tree's perfect subtrees
  kCaches = 8,         // what readers keep for readers
};
inline constexpr int kNumColumnFamilies = 9;

// Indexed by ColumnFamily. Persisted: never change a name.
inline constexpr std::array<absl::string_view, kNumColumnFamilies>
    kColumnFamilyNames = {"default", "events",        "streams",      "event_ids",
                          "meta",    "dyad_timeline", "relationships",
                          "merkle",  "caches"};

inline absl::string_view ColumnFamilyName(ColumnFamily cf) {
  return kColumnFamilyNames[static_cast<int>(cf)];
}

// The lowest level of the Merkle tree stored in the merkle column family.
inline constexpr int kMerkleFirstStoredLevel = 2;

// Keys of the meta column family.
inline constexpr absl::string_view kMetaFormatVersion = "format_version";
inline constexpr absl::string_view kMetaHeadPosition = "head_position";
inline constexpr absl::string_view kMetaHeadHash = "head_hash";
inline constexpr absl::string_view kMetaProjectionVersion =
    "projection_version";
inline constexpr absl::string_view kMetaMerkleFrontier = "merkle_frontier";
// A replica's (storage/replica.h): the log of record it replicates ("" or
// absent: the embedded log), the last sequence it applied, and per stream
// the last sequence that named the stream (key: the prefix, then the
// stream's name).
inline constexpr absl::string_view kMetaLogOfRecord = "log_of_record";
inline constexpr absl::string_view kMetaAppliedSequence = "applied_sequence";
inline constexpr absl::string_view kMetaStreamSequencePrefix =
    "stream_sequence/";
inline std::string StreamSequenceKey(absl::string_view stream) {
  return std::string(kMetaStreamSequencePrefix)
      .append(stream.data(), stream.size());
}

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

// --- event_ids: correction entries ---

// id || 0x00: the common prefix of the correction entries of event `id`.
inline std::string CorrectionPrefix(absl::string_view id) {
  std::string key(id);
  key.push_back('\0');
  return key;
}

// Requires: `id` contains no 0x00.
inline std::string CorrectionKey(absl::string_view id, uint64_t position) {
  std::string key = CorrectionPrefix(id);
  PutBigEndian64(&key, position);
  return key;
}

// --- merkle ---

// BE8 level || BE64 index. Requires: level < 64.
inline std::string MerkleKey(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  PutBigEndian64(&key, index);
  return key;
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

// --- Fixed-width 32-bit integers (projection keys) ---

inline void PutBigEndian32(std::string* dst, uint32_t value) {
  char buf[4];
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  dst->append(buf, sizeof(buf));
}

// Requires: `src` points at 4 readable bytes.
inline uint32_t DecodeBigEndian32(const char* src) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<unsigned char>(src[i]);
  }
  return value;
}

// --- dyad_timeline ---

inline constexpr char kTimelineTag = 0x01;
inline constexpr char kHistoryTag = 0x02;
inline constexpr char kLongestSpanTag = 0x04;
inline constexpr char kCheckpointTag = 0x05;
inline constexpr char kMonthMarkTag = 0x06;
// In caches.
inline constexpr char kYearPartialTag = 0x06;
inline constexpr char kMonthPartialTag = 0x07;
inline constexpr char kThroughPartialTag = 0x08;
inline constexpr char kLatestCorrectionTag = 0x01;

// subject || 0x00 || 0x01: every timeline entry of `subject`.
inline std::string TimelinePrefix(absl::string_view subject) {
  std::string key(subject);
  key.push_back('\0');
  key.push_back(kTimelineTag);
  return key;
}

inline std::string TimelineKey(absl::string_view subject, uint32_t first_day,
                               uint32_t last_day, uint64_t position) {
  std::string key = TimelinePrefix(subject);
  PutBigEndian32(&key, first_day);
  PutBigEndian32(&key, last_day);
  PutBigEndian64(&key, position);
  return key;
}

// subject || 0x00 || 0x04: the longest span of `subject`'s timeline.
inline std::string LongestSpanKey(absl::string_view subject) {
  std::string key(subject);
  key.push_back('\0');
  key.push_back(kLongestSpanTag);
  return key;
}

// A timeline entry's value: the content's position, then its kind (the
// field number of annals.v1.Event's `what`).
inline std::string TimelineValue(uint64_t content_position, uint8_t kind) {
  std::string value = EncodeBigEndian64(content_position);
  value.push_back(static_cast<char>(kind));
  return value;
}

// Splits a timeline entry's value. False when it is not 9 bytes.
inline bool ParseTimelineValue(absl::string_view value,
                               uint64_t* content_position, uint8_t* kind) {
  if (value.size() != 9) return false;
  *content_position = DecodeBigEndian64(value.data());
  *kind = static_cast<uint8_t>(value[8]);
  return true;
}

// Splits the part of a timeline key after its prefix. False when it is not
// 16 bytes.
inline bool ParseTimelineSuffix(absl::string_view suffix, uint32_t* first_day,
                                uint32_t* last_day, uint64_t* position) {
  if (suffix.size() != 16) return false;
  *first_day = DecodeBigEndian32(suffix.data());
  *last_day = DecodeBigEndian32(suffix.data() + 4);
  *position = DecodeBigEndian64(suffix.data() + 8);
  return true;
}

// dyad || 0x00 || 0x02: every history entry of `dyad`.
inline std::string HistoryPrefix(absl::string_view dyad) {
  std::string key(dyad);
  key.push_back('\0');
  key.push_back(kHistoryTag);
  return key;
}

// The value of a correction's history entry (another event's is empty).
inline constexpr absl::string_view kHistoryCorrection = "c";

inline std::string HistoryKey(absl::string_view dyad, uint64_t position) {
  std::string key = HistoryPrefix(dyad);
  PutBigEndian64(&key, position);
  return key;
}

// dyad || 0x00 || 0x05: every checkpoint of `dyad`.
inline std::string CheckpointPrefix(absl::string_view dyad) {
  std::string key(dyad);
  key.push_back('\0');
  key.push_back(kCheckpointTag);
  return key;
}

inline std::string CheckpointKey(absl::string_view dyad, uint64_t position) {
  std::string key = CheckpointPrefix(dyad);
  PutBigEndian64(&key, position);
  return key;
}

// dyad || 0x00 || tag: the month marks of `dyad` (kMonthMarkTag), its
// year, month or through partials (kYearPartialTag, kMonthPartialTag,
// kThroughPartialTag).
inline std::string DyadTagPrefix(absl::string_view dyad, char tag) {
  std::string key(dyad);
  key.push_back('\0');
  key.push_back(tag);
  return key;
}

// The month marks of `dyad` are keyed DyadTagPrefix(dyad, kMonthMarkTag)
// || BE32 year || month, its month partials likewise under
// kMonthPartialTag.
inline std::string MonthKey(absl::string_view dyad, char tag, uint32_t year,
                            uint8_t month) {
  std::string key = DyadTagPrefix(dyad, tag);
  PutBigEndian32(&key, year);
  key.push_back(static_cast<char>(month));
  return key;
}

// dyad || 0x00 || tag || BE32 year: a year partial (kYearPartialTag) or a
// through partial (kThroughPartialTag).
inline std::string YearKey(absl::string_view dyad, char tag, uint32_t year) {
  std::string key = DyadTagPrefix(dyad, tag);
  PutBigEndian32(&key, year);
  return key;
}

inline std::string LatestCorrectionKey(uint64_t position) {
  std::string key(1, kLatestCorrectionTag);
  PutBigEndian64(&key, position);
  return key;
}

// --- relationships ---

inline constexpr char kByActivityTag = 0x01;
inline constexpr char kByIndexTag = 0x02;

inline std::string ByActivityKey(uint32_t last_first_day,
                                 absl::string_view dyad) {
  std::string key(1, kByActivityTag);
  PutBigEndian32(&key, last_first_day);
  key.append(dyad.data(), dyad.size());
  return key;
}

inline std::string ByIndexKey(int32_t index_tenths, absl::string_view dyad) {
  std::string key(1, kByIndexTag);
  PutBigEndian32(&key, static_cast<uint32_t>(index_tenths) ^ 0x80000000u);
  key.append(dyad.data(), dyad.size());
  return key;
}

// The dyad of a ByActivityKey or ByIndexKey; empty when malformed.
inline absl::string_view DyadOfOrderKey(absl::string_view key) {
  return key.size() > 5 ? key.substr(5) : absl::string_view();
}

}  // namespace annals::storage::format

#endif  // ANNALS_STORAGE_FORMAT_H_
