// The durable event log: the single source of truth of annals.
//
// An EventLog appends batches of validated events to streams, atomically and
// durably, assigning gapless global positions at commit, and reads them back.
// The embedded implementation (OpenRocksEventLog) keeps everything in one
// RocksDB database; the interface exists so that the log can move to a
// replicated engine later and so that tests can use fakes.
#ifndef ANNALS_STORAGE_EVENT_LOG_H_
#define ANNALS_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"

namespace annals::storage {

class Projector;
enum class ProjectionFamily;

// What the writer expects a stream's current version to be.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // only for kExact; 0 is the same as kNoStream

  static ExpectedVersion Any() { return {}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion StreamExists() { return {Kind::kStreamExists, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
  // "any", "no_stream", "stream_exists" or the number.
  std::string ToString() const;
};

// One append: events for one stream, committed all or nothing.
struct AppendBatch {
  // Required, already validated (see services/model/validation.h).
  std::string stream;
  ExpectedVersion expected;
  // Required: at least one, validated and normalized, ids distinct.
  std::vector<v1::Event> events;
  // Who writes; recorded in every event's envelope.
  std::string principal;
};

struct AppendResult {
  std::string stream;
  std::vector<uint64_t> positions;  // one per event, in batch order
  uint64_t stream_version = 0;      // after the last event of the batch
  bool already_recorded = false;    // an idempotent retry: nothing written
  uint64_t head = 0;                // log head after the commit
};

enum class Direction { kForward, kBackward };

struct ReadPage {
  std::vector<v1::RecordedEvent> events;  // in the order read, hash set
  // Forward: one past the last event read (or the start when none was
  // read). Backward: one before it (0 once position/version 1 was read).
  uint64_t next = 0;
  // True when the read reached the end in its direction.
  bool end = false;
  // ReadAll: the head the page was read at. ReadStream: the stream's last
  // version (0 when the stream does not exist).
  uint64_t last = 0;
};

// The log head: the last position and the chain hash after it.
struct Head {
  uint64_t position = 0;
  std::string hash;  // 32 bytes; 32 zero bytes when position == 0
};

// The head of the log's Merkle tree (storage/merkle.h): the tree over
// positions 1 ... size.
struct TreeHead {
  uint64_t size = 0;  // == the head position
  std::string root;   // 32 bytes; SHA-256("") when size == 0
};

// One position exactly as stored (format.h, events).
struct StoredEvent {
  uint64_t position = 0;
  std::string chain_hash;  // 32 bytes
  std::string stored;      // the RecordedEvent bytes, without the hash
};

// Told of the log's work, for metrics. Calls come from the log's threads
// and must be quick and must not call back into the log.
class LogObserver {
 public:
  virtual ~LogObserver() = default;
  // A commit group was written (writer thread): `events` recorded, and the
  // projections took `projection` (zero without a projector).
  virtual void GroupWritten(size_t events, absl::Duration projection) = 0;
  // One WAL sync made the groups written before it durable (syncer thread).
  virtual void Synced(absl::Duration sync) = 0;
  // A rebuild of the projections has replayed `replayed` of `total`
  // positions (the rebuild's thread); called as it goes and at its end.
  virtual void RebuildProgress(uint64_t replayed, uint64_t total) = 0;
};

// Where a replica stands against its log of record (EventLog::Replication,
// cluster mode).
struct ReplicationFigures {
  uint64_t applied = 0;    // the log of record's last sequence applied here
  uint64_t last = 0;       // the log of record's last sequence, as last seen
  bool caught_up = false;  // applied what the log of record held at start
};

// What the storage engine holds, sampled (EventLog::Figures).
struct StorageFigures {
  struct Family {
    std::string name;
    uint64_t live_sst_bytes = 0;
    uint64_t memtable_bytes = 0;
    uint64_t pending_compaction_bytes = 0;
    uint64_t level0_tables = 0;
  };
  std::vector<Family> families;
  uint64_t block_cache_usage_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
  // Cumulative since open.
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  uint64_t write_stall_micros = 0;
  // RocksDB writes (sequence numbers) after the oldest snapshot still
  // held: versions compactions keep for it, and the bottommost tables
  // they write are compacted again once it is released. 0 with none.
  uint64_t writes_after_oldest_snapshot = 0;
};

struct LogOptions {
  // --- Affects behaviour ---

  // fsync every commit group before acknowledging it (default true). When
  // false, commits are written to the OS but not synced: an acknowledged
  // append survives a crash of annalsd but not of the machine.
  bool sync = true;

  // Create the database when the directory holds none (default true).
  bool create_if_missing = true;

  // Keeps projections in the same WriteBatch as the events (see
  // storage/projector.h). Not owned; must outlive the log. Default none.
  Projector* projector = nullptr;

  // Called on the log's syncer thread after every commit that wrote events,
  // once it is durable and the new head is published (GetHead returns it),
  // before the appends are acknowledged: the group's events in position
  // order, hash set, and the head after them (after a storage failure, on
  // the writer thread for the commits it made durable when storage came
  // back). Calls come one at a time, in position order. For live delivery (subscriptions). It must not block or
  // call back into the log's writes; the pointers are valid only during the
  // call. Default none.
  std::function<void(const std::vector<const v1::RecordedEvent*>& events,
                     const Head& head)>
      on_commit;

  // Told of commit groups, syncs and rebuilds. Not owned; must outlive the
  // log. Default none.
  LogObserver* observer = nullptr;

  // For tests: called on the writer thread once appends are queued and
  // before it takes them as a group, so that a test can hold it there while
  // it queues the requests it wants decided together. Default none.
  std::function<void()> before_group;

  // Upper bound of the bytes of one read page (ReadAll, ReadStream,
  // ReadStored): a page ends before an event that would pass it, but holds
  // at least one event. Below gRPC's default 4 MiB message limit, with room
  // for the largest event annalsd accepts (--max-event-bytes).
  size_t max_page_bytes = 2 << 20;

  // --- Affects performance ---

  // Upper bounds of one commit group (one WriteBatch, one fsync). A batch
  // larger than these alone still commits, alone.
  size_t max_group_events = 20000;
  size_t max_group_bytes = 32 << 20;

  // Once no write has come for this long, RocksDB merges the level-0
  // tables of dyad_timeline as soon as there are 4 rather than 16, so that
  // a log at rest keeps few for reads to seek in (storage/
  // rocks_idle_merge.h); zero: 16 always. Default 5 s.
  absl::Duration idle_merge_after = absl::Seconds(5);

  // Longest the writer holds the oldest snapshot while appends never
  // pause (storage/rocks_event_log_impl.h, anchor_): RocksDB's rewrites of
  // last-level tables wait for a pause or this long. Default 10 minutes.
  absl::Duration snapshot_anchor_max_age = absl::Minutes(10);

  // RocksDB block cache shared by all column families (default 64 MiB).
  size_t block_cache_bytes = 64 << 20;
  // Budget of all memtables together (default 64 MiB).
  size_t write_buffer_bytes = 64 << 20;
};

// What RebuildProjections found.
struct RebuildReport {
  uint64_t events = 0;          // log positions replayed (1 ... head)
  uint64_t keys = 0;            // projection entries recomputed
  uint64_t missing = 0;         // recomputed but not stored
  uint64_t unexpected = 0;      // stored but not recomputed
  uint64_t different = 0;       // stored with another value
  std::string first_difference; // "family key (missing)", readable; "" if none
  bool repaired = false;        // the stored projections were replaced
  bool matched() const { return missing + unexpected + different == 0; }
};

// What EventLog::Backup took.
struct BackupReport {
  uint32_t id = 0;      // the backup's id in its directory: 1, 2, 3 ...
  Head head;            // of the backed-up log
  TreeHead tree_head;   // of the backed-up log (size == head.position)
  uint32_t files = 0;   // files of the backup, shared ones included
  uint64_t bytes = 0;   // their bytes
  uint64_t copied_bytes = 0;  // the bytes this backup copied
};

// The payload that marks a WatchWritable status as a replica's standing
// rather than a storage failure.
inline constexpr absl::string_view kReplicaStandingPayload =
    "annals.storage/replica-standing";
inline bool IsReplicaStanding(const absl::Status& status) {
  return status.GetPayload(kReplicaStandingPayload).has_value();
}

class EventLog {
 public:
  virtual ~EventLog() = default;

  using AppendCallback =
      absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

  // Queues `batch` for the writer and returns at once. `done` is called
  // exactly once, on the writer thread (or on the caller's thread when the
  // log is already closed), after the batch is durable or has failed; it
  // must not block. Thread-safe.
  //
  // Errors: FAILED_PRECONDITION when the expected version does not match,
  // or a correction names an event not in the log (or one that is itself a
  // correction); ALREADY_EXISTS when an event id is recorded with other
  // content, or only some of the batch's ids are recorded; UNAVAILABLE when
  // the log is closed or storage failed. On any error but one nothing is
  // written: when storage fails after the batch was written but before it
  // was known durable, the UNAVAILABLE says it may be recorded (it is, once
  // storage is back); a retry with the same event ids is always safe.
  // When every event id is already recorded with the same content and
  // stream, succeeds with the original positions and already_recorded set.
  virtual void AppendAsync(AppendBatch batch, AppendCallback done) = 0;

  // AppendAsync, waiting for the result. Thread-safe.
  absl::StatusOr<AppendResult> Append(AppendBatch batch);

  // Whether appends can succeed: OK, or UNAVAILABLE saying why not (a write
  // or sync failed: a full disk, an I/O error) while the log retries its
  // storage. A replica also reports its standing against the log of record
  // (no connection, too far behind) this way, with the payload
  // kReplicaStandingPayload set (IsReplicaStanding), storage being fine. `listener` is called at once with the current state, then on
  // the log's threads at every change, one call at a time; it must not
  // block or call into the log. A later call replaces the listener; null
  // removes it, and no call is made once this returns. Thread-safe.
  virtual void WatchWritable(
      std::function<void(const absl::Status&)> listener) = 0;

  // Up to `limit` (>= 1) events of `stream` starting at version `from`
  // inclusive (0: the first version forward, the last backward), and no
  // more than LogOptions::max_page_bytes. A stream that does not exist
  // reads as empty. Thread-safe; never waits for the writer.
  virtual absl::StatusOr<ReadPage> ReadStream(absl::string_view stream,
                                              uint64_t from,
                                              Direction direction,
                                              size_t limit) const = 0;

  // Up to `limit` (>= 1) events of the whole log starting at position
  // `from` inclusive (0: position 1 forward, the head backward), and no
  // more than LogOptions::max_page_bytes. Thread-safe; never waits for the
  // writer.
  virtual absl::StatusOr<ReadPage> ReadAll(uint64_t from, Direction direction,
                                           size_t limit) const = 0;

  // The event with `id`. NOT_FOUND when there is none. Thread-safe.
  virtual absl::StatusOr<v1::RecordedEvent> GetEvent(
      absl::string_view id) const = 0;

  // The event at `position` (1 ... head), hash set. NOT_FOUND beyond the
  // head or at 0. Thread-safe; never waits for the writer.
  virtual absl::StatusOr<v1::RecordedEvent> GetEventAt(
      uint64_t position) const = 0;

  // The events at `positions`, in that order, read together on one
  // snapshot (one batched lookup rather than one per position). NOT_FOUND
  // as GetEventAt when any is missing. Thread-safe.
  virtual absl::StatusOr<std::vector<v1::RecordedEvent>> GetEventsAt(
      const std::vector<uint64_t>& positions) const = 0;

  // The value of `key` in a projection family, read on a snapshot (never
  // waits for the writer). NOT_FOUND when there is none. Thread-safe.
  virtual absl::StatusOr<std::string> ReadProjection(
      ProjectionFamily family, absl::string_view key) const = 0;

  // Calls `visit` for the keys of `family` that start with `prefix`, on one
  // snapshot, until `visit` returns false. Forward: in key order from the
  // first key >= max(prefix, start). Backward: in reverse key order from
  // the last key <= `start` (from the last key of the prefix when `start`
  // is empty). Thread-safe.
  virtual absl::Status ScanProjection(
      ProjectionFamily family, absl::string_view prefix,
      absl::string_view start, Direction direction,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const = 0;

  // The caches (storage/format.h): what a reader derived from the
  // projections and kept for the next one. A reader must check that what
  // it finds is still current; a log may keep nothing (these defaults).
  // ScanCache calls `visit` for the kept keys that start with `prefix`, in
  // key order, on one snapshot, until `visit` returns false. KeepCache
  // stores `value` under `key` (which starts with a letter), outside the
  // writer's groups and without waiting for a sync, when CacheEpoch is
  // still `epoch`, which the reader took before it read anything `value`
  // derives from; else it keeps nothing (and says OK: a cache not kept is
  // derived again). CacheEpoch changes when a repair starts (to an odd
  // number) and when readers see what it wrote (even again), so nothing
  // derived from the projections it replaced is kept after it dropped the
  // caches. Thread-safe.
  virtual uint64_t CacheEpoch() const { return 0; }
  virtual absl::Status ScanCache(
      absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const {
    (void)prefix;
    (void)visit;
    return absl::OkStatus();
  }
  virtual absl::Status KeepCache(absl::string_view key, absl::string_view value,
                                 uint64_t epoch) const {
    (void)key;
    (void)value;
    (void)epoch;
    return absl::OkStatus();
  }

  // Recomputes every projection from the log with LogOptions::projector and
  // compares the result with what is stored; with `repair`, replaces what
  // is stored when they differ. A check (no repair) runs on the caller's
  // thread, on a snapshot of the log taken when it starts, while appends
  // go on; a repair runs on the writer: appends wait until it is done. One
  // at a time. FAILED_PRECONDITION when the log has no projector.
  virtual absl::StatusOr<RebuildReport> RebuildProjections(bool repair) = 0;

  // When opening found the projections incomplete or of another projector
  // version and rebuilt them (see format.h, projection_version): what that
  // rebuild found. nullopt when the stored projections were used as they
  // were. Thread-safe.
  virtual std::optional<RebuildReport> RebuiltOnOpen() const = 0;

  // The current head. Thread-safe.
  virtual Head GetHead() const = 0;

  // --- Verifiable history (storage/merkle.h). The defaults answer
  // UNIMPLEMENTED, for logs that keep no tree. ---

  // The current tree head; its size is the head position of the same
  // commit. Thread-safe.
  virtual TreeHead GetTreeHead() const { return {}; }

  // The root of the tree as it was at `size` (0 ... head). INVALID_ARGUMENT
  // beyond the head. Thread-safe; never waits for the writer.
  virtual absl::StatusOr<std::string> RootAt(uint64_t size) const {
    (void)size;
    return absl::UnimplementedError("this event log keeps no Merkle tree");
  }

  // The audit path of `position` (leaf position - 1) in the tree of
  // `tree_size`. INVALID_ARGUMENT unless 1 <= position <= tree_size <=
  // head. Thread-safe; O(log n) reads.
  virtual absl::StatusOr<std::vector<std::string>> ProveInclusion(
      uint64_t position, uint64_t tree_size) const {
    (void)position;
    (void)tree_size;
    return absl::UnimplementedError("this event log keeps no Merkle tree");
  }

  // The consistency proof from the tree of `old_size` to that of
  // `new_size`. INVALID_ARGUMENT unless 1 <= old_size <= new_size <= head.
  // Thread-safe; O(log n) reads.
  virtual absl::StatusOr<std::vector<std::string>> ProveConsistency(
      uint64_t old_size, uint64_t new_size) const {
    (void)old_size;
    (void)new_size;
    return absl::UnimplementedError("this event log keeps no Merkle tree");
  }

  // Up to `limit` (>= 1) positions from `from` (>= 1) on, exactly as stored,
  // not beyond the head and no more than LogOptions::max_page_bytes (at
  // least one). Empty when `from` is beyond the head. Thread-safe.
  virtual absl::StatusOr<std::vector<StoredEvent>> ReadStored(
      uint64_t from, size_t limit) const {
    (void)from;
    (void)limit;
    return absl::UnimplementedError("this event log cannot export");
  }

  // The positions of the corrections (amend or retract) of event `id`, in
  // position order; empty when it has none (or does not exist). Thread-safe.
  virtual absl::StatusOr<std::vector<uint64_t>> CorrectionsOf(
      absl::string_view id) const {
    (void)id;
    return absl::UnimplementedError("this event log keeps no correction index");
  }

  // Takes an online backup of the whole log into directory `dir`
  // (storage/rocks_backup.h) while appends go on: every column family at
  // one commit. A directory holding earlier backups gets a new one that
  // copies only the files they lack. The head and tree head reported are
  // those of the backed-up state, read back from the backup itself.
  // INVALID_ARGUMENT saying why when `dir` cannot be used (not absolute,
  // inside the log's own directory, not a directory, not empty and holding
  // no backups, not writable); UNAVAILABLE when storage fails. One at a
  // time: a second call waits for the first. Thread-safe.
  virtual absl::StatusOr<BackupReport> Backup(const std::string& dir) {
    (void)dir;
    return absl::UnimplementedError("this event log cannot be backed up");
  }

  // Recomputes the hash chain from position 1 to the head and compares it
  // with every stored hash and with the head in meta. DATA_LOSS naming the
  // first bad position when they differ. Thread-safe; reads a snapshot.
  virtual absl::Status VerifyChain() const = 0;

  // What the storage engine holds now. Thread-safe. Default: nothing.
  virtual StorageFigures Figures() const { return {}; }

  // A replica's standing against its log of record; nullopt for a log that
  // is its own log of record (the embedded one). Thread-safe.
  virtual std::optional<ReplicationFigures> Replication() const {
    return std::nullopt;
  }

  // --- Liveness of the write path, for a watchdog (annalsd's systemd
  // watchdog). ---

  // Queues a no-op behind everything queued for the writer; `reached` is
  // called once the writer and then whatever makes commits durable have
  // passed it, on the log's thread, or at once on the caller's when the
  // log is closed. It must not block. A probe that comes back says the
  // write path takes work and finishes it; one is taken while storage has
  // failed too (the writer then only retries the storage). Thread-safe.
  // The default calls `reached` at once, for logs without a writer thread.
  virtual void Probe(absl::AnyInvocable<void() &&> reached) {
    std::move(reached)();
  }

  // A count that grows while the write path works: with every commit
  // group it finishes, and steadily during a rebuild of the projections,
  // which a probe may wait behind for minutes. A count that grows tells a
  // busy writer from a stuck one. Thread-safe.
  virtual uint64_t WriterProgress() const { return 0; }

  // Stops accepting appends (later ones fail with UNAVAILABLE), commits
  // everything already queued, and waits for the writer to finish.
  // Idempotent; the destructor calls it.
  virtual void Close() = 0;
};

// Opens (or creates) the RocksDB event log in directory `path`.
//
// On open the head is read from meta and the stored hash of the last event
// is checked against it and recomputed from the event before it; on a
// mismatch returns DATA_LOSS with a message naming the position, and the
// log does not open. Also fails when the format version is unknown
// (FAILED_PRECONDITION) or RocksDB cannot open the directory (UNAVAILABLE,
// with RocksDB's message, e.g. when another process holds the lock).
absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLog(
    const std::string& path, const LogOptions& options);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_EVENT_LOG_H_
