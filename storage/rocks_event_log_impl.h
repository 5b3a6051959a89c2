// RocksEventLog: the embedded EventLog on one RocksDB database. Declared
// here for the files that implement it; everyone else opens it through
// OpenRocksEventLog (storage/event_log.h) or storage/rocks_event_log.h.
//
// Layout on disk: see storage/format.h. Hash chain: see storage/hash_chain.h.
//
// Write path. AppendAsync only queues. One writer thread owns the head: it
// takes everything queued (bounded by LogOptions::max_group_*), decides each
// request in queue order against the written state plus what the earlier
// requests of the same group did (BuildBatchGroup), and writes every passing
// request as one rocksdb::WriteBatch (WriteGroup), without waiting for the
// disk. It then hands the group to the syncer thread and goes on with the
// next group while the disk syncs. The syncer makes every group handed to
// it durable with one SyncWAL (when LogOptions::sync), then, in order,
// publishes each group's head (Publish) and answers its requests
// (Respond). So building a group overlaps with the previous group's fsync,
// and no append is acknowledged before it is on disk. A request that fails
// contributes nothing to the batch; the others still commit.
//
// A replica (storage/replica.h) runs the same writer over committed appends
// (ApplyAsync) instead of appends: the order is the log of record's, each
// append is decided at its sequence, and meta records the applied sequence
// in the same commit.
//
// Storage failure. When a write or a sync fails (a full disk, an I/O
// error), the log stops taking appends (UNAVAILABLE, WatchWritable says
// why) and nothing more is acknowledged; every second the writer asks
// RocksDB to resume (DB::Resume, which flushes the memtables; after an I/O
// error on the WAL RocksDB cannot, and a restart recovers). Once it has,
// the groups that were written but not known durable are published as
// they were made durable by that flush, and appends are taken again. The
// group write and the WAL sync never overlap, and neither runs after one
// has failed: RocksDB's WAL writer must not be used once it has failed
// (Debian's build asserts it, aborting the process).
//
// Read path. Reads never take the writer's lock: each read works on the
// published snapshot (taken right after a group's write, published once the
// group is durable), and every commit is one WriteBatch, so a read sees
// either all of a commit or none of it, and never a commit that is not yet
// durable. ReadAll is bounded by the head stored in meta within the same
// snapshot.
//
// The files, one job each:
//   rocks_event_log.cc           Open and recovery (format version, head,
//                                Merkle frontier), starting the threads,
//                                Close; the factories
//   rocks_writer.cc              the queue, the writer thread, the syncer
//                                thread (SyncWAL, Publish, Respond)
//   rocks_storage_failure.cc     failing, resuming, WatchWritable
//   rocks_commit_group.cc        one commit group: decide, stage, project,
//                                write (CommitGroup, BuildBatchGroup)
//   rocks_reads.cc               reads on the published snapshot
//   rocks_rebuild.cc             RebuildProjections and CheckProjections,
//                                through a scratch database
//   rocks_backup.cc              Backup with RocksDB's BackupEngine, and
//                                restoring one (storage/rocks_backup.h)
//   rocks_audit.cc               the Merkle tree and correction index kept at
//                                commit, proofs, export, VerifyChain
//   rocks_projection_overlay.*   what the projector reads and writes through
//   rocks_options.*              RocksDB tuning
//   rocks_idle_merge.*           dyad_timeline's level 0 merged sooner while
//                                writes pause
//   rocks_internal.h             small helpers they share
//
// Threads. The writer thread owns everything under "Owned by the writer
// thread"; Open sets it before the writer starts. Readers take only
// head_mu_, briefly, to copy the published head or read snapshot.
#ifndef ANNALS_STORAGE_ROCKS_EVENT_LOG_IMPL_H_
#define ANNALS_STORAGE_ROCKS_EVENT_LOG_IMPL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/status.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/merkle.h"
#include "storage/projector.h"
#include "storage/replica.h"
#include "storage/rocks_idle_merge.h"
#include "storage/rocks_projection_overlay.h"

namespace annals::storage {

// Hears RocksDB's background errors (a failed flush or compaction, or a
// failed sync of a closed WAL file): after one, the WAL must not be synced
// until RocksDB has resumed. Thread-safe.
class BackgroundErrorListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* error) override;
  // The first error since the last Clear, or OK.
  absl::Status error() const ABSL_LOCKS_EXCLUDED(mu_);
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

class RocksEventLog final : public ReplicaLog {
 public:
  // Opens the database in `path`, checks (or creates) meta and verifies the
  // head, then starts the writer. `env` may be null (RocksDB's default).
  // `replica_of`: the log of record this is a replica of (ReplicaLog), or
  // empty for the embedded log.
  static absl::StatusOr<std::unique_ptr<RocksEventLog>> Open(
      const std::string& path, const LogOptions& options, rocksdb::Env* env,
      absl::string_view replica_of);

  // How long the writer waits between attempts to resume failed storage.
  static constexpr absl::Duration kResumeInterval = absl::Seconds(1);
  // How long the writer waits for work before RefreshIdleSnapshot.
  static constexpr absl::Duration kIdleSnapshotRefresh = absl::Seconds(1);

  RocksEventLog(const RocksEventLog&) = delete;
  RocksEventLog& operator=(const RocksEventLog&) = delete;
  ~RocksEventLog() override;

  // EventLog: the contracts are in storage/event_log.h.
  void AppendAsync(AppendBatch batch, AppendCallback done) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void WatchWritable(std::function<void(const absl::Status&)> listener)
      override ABSL_LOCKS_EXCLUDED(watch_mu_, mu_);
  absl::StatusOr<ReadPage> ReadStream(absl::string_view stream, uint64_t from,
                                      Direction direction,
                                      size_t limit) const override;
  absl::StatusOr<ReadPage> ReadAll(uint64_t from, Direction direction,
                                   size_t limit) const override;
  absl::StatusOr<v1::RecordedEvent> GetEvent(
      absl::string_view id) const override;
  absl::StatusOr<v1::RecordedEvent> GetEventAt(
      uint64_t position) const override;
  absl::StatusOr<std::vector<v1::RecordedEvent>> GetEventsAt(
      const std::vector<uint64_t>& positions) const override;
  absl::StatusOr<std::string> ReadProjection(
      ProjectionFamily family, absl::string_view key) const override;
  absl::Status ScanProjection(
      ProjectionFamily family, absl::string_view prefix,
      absl::string_view start, Direction direction,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override;
  absl::Status ScanCache(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override;
  uint64_t CacheEpoch() const override ABSL_LOCKS_EXCLUDED(caches_mu_);
  // Moves CacheEpoch on: at a repair's start and once readers see its end.
  void BumpCacheEpoch() ABSL_LOCKS_EXCLUDED(caches_mu_);
  absl::Status KeepCache(absl::string_view key, absl::string_view value,
                         uint64_t epoch) const override
      ABSL_LOCKS_EXCLUDED(caches_mu_);
  absl::StatusOr<RebuildReport> RebuildProjections(bool repair) override
      ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<RebuildReport> RebuiltOnOpen() const override {
    return rebuilt_on_open_;
  }
  Head GetHead() const override ABSL_LOCKS_EXCLUDED(head_mu_);
  TreeHead GetTreeHead() const override ABSL_LOCKS_EXCLUDED(head_mu_);
  absl::StatusOr<std::string> RootAt(uint64_t size) const override;
  absl::StatusOr<std::vector<std::string>> ProveInclusion(
      uint64_t position, uint64_t tree_size) const override;
  absl::StatusOr<std::vector<std::string>> ProveConsistency(
      uint64_t old_size, uint64_t new_size) const override;
  absl::StatusOr<std::vector<StoredEvent>> ReadStored(
      uint64_t from, size_t limit) const override;
  absl::StatusOr<std::vector<uint64_t>> CorrectionsOf(
      absl::string_view id) const override;
  absl::Status VerifyChain() const override;
  StorageFigures Figures() const override;
  absl::StatusOr<BackupReport> Backup(const std::string& dir) override
      ABSL_LOCKS_EXCLUDED(backup_mu_, mu_);
  void Probe(absl::AnyInvocable<void() &&> reached) override
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t WriterProgress() const override {
    return writer_progress_.load(std::memory_order_relaxed);
  }
  void Close() override ABSL_LOCKS_EXCLUDED(close_mu_, mu_);

  // ReplicaLog (storage/replica.h).
  void ApplyAsync(CommittedAppend append, AppendCallback done) override
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t AppliedSequence() const override ABSL_LOCKS_EXCLUDED(head_mu_);
  absl::StatusOr<ReplicaStream> StreamState(
      absl::string_view stream) const override ABSL_LOCKS_EXCLUDED(head_mu_);

 private:
  // One queued AppendAsync call.
  struct Request {
    // Set for work that runs on the writer alone, between groups (a
    // rebuild); then nothing else of the request is used but
    // `after_exclusive`, called once readers see what the work left and
    // the projector has heard that it ended.
    absl::AnyInvocable<void() &&> exclusive;
    absl::AnyInvocable<void() &&> after_exclusive;
    // Set for a Probe: no batch; `done` is called when the syncer answers
    // the group it went with.
    bool probe = false;
    AppendBatch batch;
    AppendCallback done;
    // A replica's committed append (ApplyAsync): its sequence (0 for an
    // embedded append) and the time the log of record took it.
    uint64_t sequence = 0;
    absl::Time committed_at;
    size_t bytes = 0;  // serialized size of the events, for group bounds
    // Set by the writer: the answer, and the events as recorded when the
    // request commits (stable: reserved before filling).
    absl::StatusOr<AppendResult> result;
    std::vector<v1::RecordedEvent> recorded;
  };

  // What the group being built has done so far, on top of the committed
  // state. Lives on the writer thread only.
  struct Group {
    Head head;                // after the last staged event
    // Of the events staged last: the whole group's for embedded appends;
    // a replica's rises with each committed append (StageTime).
    absl::Time recorded_at;
    google::protobuf::Timestamp recorded_at_proto;
    // Sets recorded_at and recorded_at_proto (rocks_commit_group.cc).
    void SetRecordedAt(absl::Time t);
    // A replica's: the sequence of the last committed append decided, and
    // of the last one of every stream named (written to meta).
    uint64_t applied_sequence = 0;
    absl::flat_hash_map<std::string, uint64_t> stream_sequences;
    // Current version of every stream a staged request appended to.
    absl::flat_hash_map<std::string, uint64_t> stream_versions;
    // Staged events by id; point into Request::recorded.
    absl::flat_hash_map<absl::string_view, const v1::RecordedEvent*> ids;
    size_t staged_events = 0;
    // Everything the group writes, in one batch. Not indexed: indexing
    // every key cost the writer a third of its time; the projector reads
    // its own writes through `projections` and the staged events through
    // `staged` instead.
    rocksdb::WriteBatch batch;
    StagedProjections projections;
    // The staged events by position (first: committed head + 1); point
    // into Request::recorded.
    std::vector<const v1::RecordedEvent*> staged;
    // The Merkle frontier after the last staged event.
    merkle::Frontier frontier;
    // Not OK when `batch` could not be rolled back to a request's start and
    // can no longer be trusted: the group fails like a failed write.
    absl::Status broken;
  };

  // A group the writer is done with, on its way to the syncer.
  struct Commit {
    std::vector<std::unique_ptr<Request>> requests;
    bool wrote = false;   // something was written and needs the disk
    Head head;            // after the group
    TreeHead tree_head;   // after the group, when it grew the log
    bool grew = false;
    uint64_t applied_sequence = 0;  // a replica's, after the group
    // Everything written up to and including the group; null for a
    // commit that wrote nothing.
    std::shared_ptr<const rocksdb::Snapshot> snapshot;
    // In limbo_: the events it wrote (StagedEvents, taken before its
    // requests were answered with an error), for on_commit once published.
    std::vector<const v1::RecordedEvent*> unpublished;
  };

  RocksEventLog(const LogOptions& options, rocksdb::DB* db,
                std::vector<rocksdb::ColumnFamilyHandle*> handles,
                std::shared_ptr<BackgroundErrorListener> background_errors,
                absl::string_view replica_of);

  // Queues `request` unless the log is closed or failed; else answers it.
  void Queue(std::unique_ptr<Request> request) ABSL_LOCKS_EXCLUDED(mu_);

  rocksdb::ColumnFamilyHandle* Cf(format::ColumnFamily cf) const {
    return handles_[static_cast<int>(cf)];
  }
  rocksdb::ColumnFamilyHandle* ProjectionCf(ProjectionFamily family) const {
    return Cf(family == ProjectionFamily::kDyadTimeline
                  ? format::ColumnFamily::kDyadTimeline
                  : format::ColumnFamily::kRelationships);
  }

  // --- Open and recovery (rocks_event_log.cc), before the writer starts ---

  // Reads the format version (writing it and an empty head into a new
  // database), then the head, and verifies it (VerifyHead).
  absl::Status Recover();
  // Checks that the database is the kind opened (embedded, or a replica of
  // replica_of_), recording a new replica's log of record, and reads its
  // applied sequence.
  absl::Status RecoverReplica(const Head& head);
  // The head event's stored hash equals meta's and its recomputation, and no
  // event exists beyond the head. Sets last_recorded_at_.
  absl::Status VerifyHead(const Head& head);
  void StartWriter() ABSL_LOCKS_EXCLUDED(close_mu_);
  // Reads meta's Merkle frontier and, when it is behind the head (a log
  // written before the tree existed), extends the tree and the correction
  // entries over the missing positions. Sets frontier_ and tree_head_.
  absl::Status RecoverMerkle(const Head& head);

  // --- The writer and syncer threads (rocks_writer.cc) ---

  // The writer thread.
  void WriterLoop();
  bool WriterHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || !queue_.empty();
  }
  // Work, or storage failed and may resume (WaitForWorkOrResume).
  bool WriterShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return WriterHasWork() || (!failed_.ok() && resumable_);
  }
  // A snapshot of everything written so far, released when its last
  // holder lets go.
  std::shared_ptr<const rocksdb::Snapshot> TakeSnapshot() const;
  // Hands `commit` to the syncer.
  void Enqueue(Commit commit) ABSL_LOCKS_EXCLUDED(sync_mu_);
  // Counts work done for WriterProgress. Any thread.
  void Progressed() {
    writer_progress_.fetch_add(1, std::memory_order_relaxed);
  }
  // Waits until the syncer has published and answered everything handed
  // to it.
  void DrainSyncer() ABSL_LOCKS_EXCLUDED(sync_mu_);
  // Waits for work, then moves the next group of queued requests to
  // `requests`, bounded by max_group_events/bytes (a single larger request
  // goes alone). False once the log is closed and the queue drained.
  bool TakeGroup(std::vector<std::unique_ptr<Request>>* requests)
      ABSL_LOCKS_EXCLUDED(mu_);
  // While appends pause (the writer waited kIdleSnapshotRefresh for work):
  // lets anchor_ go, and when something was written after the read
  // snapshot (the partial keeper's caches) and every group is published,
  // publishes a fresh snapshot of the same head. RocksDB recompacts each
  // bottommost table that holds keys newer than the oldest snapshot once
  // that snapshot is released (compaction reason BottommostFiles); held
  // through a pause, the last commit's snapshot left that work for the
  // next commit, in the first seconds of the appends that follow. Writer
  // thread only.
  void RefreshIdleSnapshot() ABSL_LOCKS_EXCLUDED(sync_mu_, head_mu_);

  // The syncer thread (ReadSnapshot: any thread).
  void SyncerLoop();
  bool SyncerHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
    return writer_done_ || !to_sync_.empty();
  }
  bool SyncerIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
    return to_sync_.empty() && !syncing_;
  }
  // Makes a written commit visible: head, tree head, read snapshot.
  void Publish(const Commit& commit) ABSL_LOCKS_EXCLUDED(head_mu_);
  // The snapshot readers read (null: read the latest state, while an
  // exclusive task runs with nothing else in flight).
  std::shared_ptr<const rocksdb::Snapshot> ReadSnapshot() const
      ABSL_LOCKS_EXCLUDED(head_mu_);
  // Calls every callback with its result, in queue order.
  static void Respond(std::vector<std::unique_ptr<Request>>* requests);
  // Writes `batch` (not synced) unless the WAL has failed; a failure fails
  // the WAL. Writer thread.
  rocksdb::Status WriteToWal(rocksdb::WriteBatch* batch)
      ABSL_LOCKS_EXCLUDED(wal_mu_);
  // Syncs the WAL unless it or RocksDB has failed; a failure fails the WAL.
  // Syncer thread.
  absl::Status SyncWal() ABSL_LOCKS_EXCLUDED(wal_mu_);

  // --- Storage failure (rocks_storage_failure.cc) ---

  // What appends get while storage has failed with `cause`: UNAVAILABLE.
  static absl::Status Refused(const absl::Status& cause);
  // While the log is failed, waits for work (a close, an exclusive task, a
  // probe) and tries to resume every kResumeInterval, work or not; returns
  // at once when the log is not failed, and when work is queued. Writer
  // thread.
  void WaitForWorkOrResume() ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the log taking appends with `status` (UNAVAILABLE) unless it is
  // stopped already, and tells the watcher. Any thread.
  void Fail(const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_, sync_mu_, watch_mu_);
  // While the log is failed: once the syncer is idle, asks RocksDB to
  // resume; when it has, checks the head on disk against committed_,
  // publishes the commits written before the failure (limbo_) and takes
  // appends again. Writer thread.
  void TryResume() ABSL_LOCKS_EXCLUDED(mu_, sync_mu_, wal_mu_, watch_mu_);
  // Tells the watcher the current state. Any thread.
  void NotifyWatcher() ABSL_LOCKS_EXCLUDED(mu_, watch_mu_);

  // --- One commit group (rocks_commit_group.cc), on the writer thread ---

  // Decides every request of the group and stages the passing ones into one
  // WriteBatch, then writes it (not yet synced). Returns what the syncer
  // must publish; the requests hold their answers.
  Commit CommitGroup(const std::vector<std::unique_ptr<Request>>& requests);
  void BuildBatchGroup(const std::vector<std::unique_ptr<Request>>& requests,
                       Group* group);
  // Lets options_.projector add the projection updates of the group's
  // staged events to its batch.
  class GroupContext;
  absl::Status ProjectGroup(
      const std::vector<std::unique_ptr<Request>>& requests, Group* group);
  // The events the group staged, in position order.
  static std::vector<const v1::RecordedEvent*> StagedEvents(
      const std::vector<std::unique_ptr<Request>>& requests);
  // The answer to `request` that needs no write (an error, or an idempotent
  // retry), or nullopt when its events are to be appended. Sets *current to
  // the stream's version before the request.
  absl::StatusOr<std::optional<AppendResult>> CheckRequest(
      const Request& request, const Group& group, uint64_t* current);
  // A replica's committed append: FAILED_PRECONDITION unless it is the next
  // sequence. Else the group's time moves to when it was committed.
  absl::Status CheckSequence(const Request& request, Group* group) const;
  // Assigns positions, versions and hashes to the request's events and adds
  // them to the group's batch. Requires: CheckRequest passed.
  absl::Status StageRequest(Request* request, uint64_t current, Group* group);
  absl::Status WriteGroup(Group* group);
  // The writer's own state after a written group.
  void Advance(const Group& group);

  // The version of `stream` as of the group: staged, else cached, else read.
  absl::StatusOr<uint64_t> StreamVersion(const Group& group,
                                         const std::string& stream);
  // The event recorded with `id`, staged in the group or committed; nullptr
  // when there is none. Committed events are parsed into *scratch.
  absl::StatusOr<const v1::RecordedEvent*> FindEvent(
      const Group& group, absl::string_view id, v1::RecordedEvent* scratch);

  // --- Reads (rocks_reads.cc): any thread; `read` carries the snapshot ---

  // The position of event `id` as `read` sees it (default ReadOptions: the
  // latest committed state); nullopt when there is none (the writer's
  // common case: no status to build per new id).
  absl::StatusOr<std::optional<uint64_t>> FindPosition(
      absl::string_view id,
      const rocksdb::ReadOptions& read = rocksdb::ReadOptions()) const;
  // FindPosition, NOT_FOUND naming the id when there is none.
  absl::StatusOr<uint64_t> PositionOf(
      absl::string_view id,
      const rocksdb::ReadOptions& read = rocksdb::ReadOptions()) const;

  absl::StatusOr<Head> ReadMetaHead(const rocksdb::ReadOptions& read) const;
  absl::StatusOr<uint64_t> ReadStreamVersion(const rocksdb::ReadOptions& read,
                                             absl::string_view stream) const;
  // The event at `position`; DATA_LOSS when it is missing or malformed.
  absl::StatusOr<v1::RecordedEvent> ReadEventAt(
      const rocksdb::ReadOptions& read, uint64_t position) const;
  // Decodes an events entry expected at `position`.
  static absl::Status DecodeEvent(const rocksdb::Slice& key,
                                  const rocksdb::Slice& value,
                                  uint64_t position, v1::RecordedEvent* event);

  // --- Projection rebuilds (rocks_rebuild.cc) ---
  // On the writer thread, or in Open before the writer starts.

  // With a projector: rebuilds the projections when meta's
  // projection_version is not the projector's. Without one: removes
  // projection_version, since appends will not be projected.
  absl::Status CheckProjections();
  // Recomputes every projection of positions 1 ... `head` as `read` sees
  // them into a scratch database (ProjectInto), then merges it with the
  // stored projections as `read` sees them (MergeProjections). Memory stays
  // bounded whatever the log's size: the scratch database keeps what it
  // computes on disk. A repair runs on the writer thread with the latest
  // state; a check runs on its caller's thread on a snapshot, beside the
  // writer. One at a time (rebuild_mu_: they share the scratch database).
  class RebuildContext;
  absl::StatusOr<RebuildReport> DoRebuild(const rocksdb::ReadOptions& read,
                                          uint64_t head, bool repair)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rebuild_mu_);
  // RebuildProjections(false): DoRebuild on a snapshot taken now.
  absl::StatusOr<RebuildReport> CheckOnSnapshot()
      ABSL_LOCKS_EXCLUDED(rebuild_mu_);
  // The scratch database's directory, inside the log's; removed after
  // every rebuild (and on open, should a crash have left it).
  std::string ScratchPath() const;
  // Replays positions 1 ... head through the projector into `scratch`
  // (`families`: its column family per projection family).
  absl::Status ProjectInto(
      const rocksdb::ReadOptions& read, uint64_t head, rocksdb::DB* scratch,
      const std::vector<rocksdb::ColumnFamilyHandle*>& families,
      RebuildReport* report);
  // Walks `scratch` and the stored projections together in key order,
  // counting into `report` what differs; with `repair`, makes the stored
  // projections equal to `scratch`, with projection_version removed
  // first and written last.
  absl::Status MergeProjections(
      const rocksdb::ReadOptions& read, rocksdb::DB* scratch,
      const std::vector<rocksdb::ColumnFamilyHandle*>& families, bool repair,
      RebuildReport* report);

  // --- The Merkle tree and corrections (rocks_audit.cc) ---

  // Reads a perfect subtree of the committed tree.
  absl::StatusOr<std::string> MerkleNode(int level, uint64_t index) const;
  // Adds the event at `position` (its `stored` bytes) to `frontier` and puts
  // into `batch` the subtrees it completes that are stored, and its
  // correction entry when `event` is a correction. For the writer and for
  // recovery alike.
  rocksdb::Status StageTreeAndCorrection(absl::string_view stored,
                                         const v1::Event& event,
                                         uint64_t position,
                                         merkle::Frontier* frontier,
                                         rocksdb::WriteBatch* batch) const;

  // --- Backups (rocks_backup.cc) ---

  // The writer held between two commits, and what it holds the log at.
  struct WriterHold;
  // Queues an exclusive task that holds the writer until hold->Release():
  // it starts once every commit before it is durable and published, so the
  // head it reads (committed_ and frontier_) is that of everything written.
  // Waits until the writer is held. UNAVAILABLE when the log is closed or
  // its storage failed (then the writer is not held).
  absl::StatusOr<std::shared_ptr<WriterHold>> HoldWriter()
      ABSL_LOCKS_EXCLUDED(mu_);

  // --- Constant after construction ---
  const LogOptions options_;
  Projector* const projector_;  // options_.projector
  const std::string replica_of_;  // empty: the embedded log
  std::unique_ptr<rocksdb::DB> db_;
  // Indexed by ColumnFamily; destroyed before db_.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  // --- The queue ---
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Request>> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // OK while appends can succeed; else the UNAVAILABLE every append gets
  // until storage has resumed (a DATA_LOSS when it cannot).
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  // False once storage failed in a way that cannot be resumed from.
  bool resumable_ ABSL_GUARDED_BY(mu_) = true;

  // --- The published head (what GetHead returns) ---
  mutable absl::Mutex head_mu_;
  Head head_ ABSL_GUARDED_BY(head_mu_);
  TreeHead tree_head_ ABSL_GUARDED_BY(head_mu_);  // of the same commit
  std::shared_ptr<const rocksdb::Snapshot> read_snapshot_
      ABSL_GUARDED_BY(head_mu_);
  uint64_t applied_sequence_ ABSL_GUARDED_BY(head_mu_) = 0;  // a replica's
  bool read_latest_ ABSL_GUARDED_BY(head_mu_) = false;

  // --- Between the writer and the syncer ---
  absl::Mutex sync_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::deque<Commit> to_sync_ ABSL_GUARDED_BY(sync_mu_);
  bool syncing_ ABSL_GUARDED_BY(sync_mu_) = false;
  bool writer_done_ ABSL_GUARDED_BY(sync_mu_) = false;
  // OK until a sync fails; then the writer fails every later group.
  absl::Status sync_failed_ ABSL_GUARDED_BY(sync_mu_);
  // Commits written before storage failed whose sync did not happen or
  // failed: answered already (UNAVAILABLE, maybe recorded), published once
  // storage has resumed and made them durable.
  std::deque<Commit> limbo_ ABSL_GUARDED_BY(sync_mu_);

  // --- RocksDB's WAL writer, between the writer and the syncer ---
  absl::Mutex wal_mu_ ABSL_ACQUIRED_AFTER(sync_mu_);
  // The WAL write or sync that failed, until storage has resumed.
  absl::Status wal_failed_ ABSL_GUARDED_BY(wal_mu_);
  // Constant after construction.
  const std::shared_ptr<BackgroundErrorListener> background_errors_;

  // --- The watcher of WatchWritable ---
  absl::Mutex watch_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::function<void(const absl::Status&)> watcher_ ABSL_GUARDED_BY(watch_mu_);

  // --- Owned by the writer thread (set by Open before it starts) ---
  Head committed_;             // the last committed head
  uint64_t committed_sequence_ = 0;  // a replica's, with committed_
  merkle::Frontier frontier_;  // of the tree of committed_.position
  absl::Time last_recorded_at_ = absl::InfinitePast();
  absl::Status write_failed_;  // writer's copy of failed_
  // While storage has failed: when TryResume is next due.
  absl::Time resume_at_ = absl::InfiniteFuture();
  absl::flat_hash_map<std::string, uint64_t> version_cache_;
  ProjectionCache projection_cache_;
  // The last group's batch, cleared: the next group fills it without
  // growing a new one (CommitGroup).
  rocksdb::WriteBatch spare_batch_;
  // The oldest snapshot while appends come: the snapshot the log opened
  // with, then that of the first group written after each pause, held
  // until the writer pauses (RefreshIdleSnapshot) or for
  // LogOptions::snapshot_anchor_max_age (StartWriter, CommitGroup).
  // Whenever a released snapshot moves the oldest one past a bottommost
  // table's newest key, RocksDB 7.8 rewrites that table to zero its
  // sequence numbers (compaction reason BottommostFiles), deletions in it
  // or not. Each group's snapshot release did, so every table reaching
  // the last level was written once more while the appends ran, the
  // events family's (moved there without a rewrite) whole. Held, that
  // work waits for the pause; meanwhile compactions keep at most one more
  // version of a key overwritten since.
  std::shared_ptr<const rocksdb::Snapshot> anchor_;
  absl::Time anchor_taken_;

  // WriterProgress: commit groups finished, rebuild chunks done.
  std::atomic<uint64_t> writer_progress_{0};

  // Held by a rebuild, which owns the scratch database (DoRebuild).
  absl::Mutex rebuild_mu_;

  // Held by a backup: one at a time.
  absl::Mutex backup_mu_;

  // CacheEpoch: odd while a repair runs. KeepCache checks it and writes
  // under caches_mu_, so no cache derived before a repair's start is
  // written after the repair dropped the caches.
  mutable absl::Mutex caches_mu_;
  uint64_t cache_epoch_ ABSL_GUARDED_BY(caches_mu_) = 0;

  // Set by Open (CheckProjections) before the writer starts; constant after.
  std::optional<RebuildReport> rebuilt_on_open_;

  // --- Close ---
  absl::Mutex close_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::thread writer_ ABSL_GUARDED_BY(close_mu_);
  std::thread syncer_ ABSL_GUARDED_BY(close_mu_);
  // Per LogOptions::idle_merge_after; stopped before the database closes.
  std::unique_ptr<IdleLevel0Merge> idle_merge_ ABSL_GUARDED_BY(close_mu_);
};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_EVENT_LOG_IMPL_H_
