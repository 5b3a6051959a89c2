// RocksEventLog's code (declared in rocks_event_log_impl.h): open and close
// and the write path. RocksDB's options are in rocks_options.cc; the
// projection overlay in rocks_projection_overlay.cc; reads in rocks_reads.cc;
// the Merkle tree in rocks_audit.cc; rebuilds in rocks_rebuild.cc.

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/rpc_status.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/merkle.h"
#include "storage/projector.h"
#include "storage/rocks_event_log.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/rocks_options.h"
#include "storage/rocks_projection_overlay.h"
#include "storage/status_macros.h"

namespace annals::storage {
namespace {

using format::ColumnFamily;

// Streams whose current version the writer keeps in memory. When full the
// cache is dropped and refilled from RocksDB (a seek per stream).
constexpr size_t kMaxCachedStreams = 1 << 16;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(
      (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool Matches(const ExpectedVersion& expected, uint64_t current) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      return true;
    case ExpectedVersion::Kind::kNoStream:
      return current == 0;
    case ExpectedVersion::Kind::kStreamExists:
      return current > 0;
    case ExpectedVersion::Kind::kExact:
      return current == expected.version;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// Open and close

absl::StatusOr<std::unique_ptr<EventLog>> RocksEventLog::Open(
    const std::string& path, const LogOptions& options, rocksdb::Env* env) {
  RocksOptions rocks = EventLogRocksOptions(options);
  if (env != nullptr) rocks.db.env = env;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      rocksdb::DB::Open(rocks.db, path, rocks.column_families, &handles, &db);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot open event log at ", path, ": ", s.ToString()));
  }
  std::unique_ptr<RocksEventLog> log(
      new RocksEventLog(options, db, std::move(handles)));
  RETURN_IF_ERROR(log->Recover());
  RETURN_IF_ERROR(log->CheckProjections());
  log->StartWriter();
  return log;
}

RocksEventLog::RocksEventLog(const LogOptions& options, rocksdb::DB* db,
                             std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : options_(options),
      projector_(options.projector),
      db_(db),
      handles_(std::move(handles)) {}

RocksEventLog::~RocksEventLog() {
  Close();
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    // Fails only for DefaultColumnFamily()'s own handle, never passed here.
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(handle);
    (void)s;
  }
  handles_.clear();
  // Everything acknowledged is already in the WAL; a failed close loses
  // nothing that recovery would not find.
  rocksdb::Status s = db_->Close();
  (void)s;
}

absl::Status RocksEventLog::Recover() {
  const rocksdb::ReadOptions read;
  std::string value;
  rocksdb::Status s = db_->Get(read, Cf(ColumnFamily::kMeta),
                               ToSlice(format::kMetaFormatVersion), &value);
  if (s.IsNotFound()) {
    // A new database; it must not hold events yet.
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
    it->SeekToFirst();
    if (it->Valid()) {
      return Corrupt("events exist but meta has no format version");
    }
    if (!it->status().ok()) return RocksError(it->status(), "read events");
    rocksdb::WriteBatch batch;
    rocksdb::Status put = batch.Put(
        Cf(ColumnFamily::kMeta), ToSlice(format::kMetaFormatVersion),
        format::EncodeBigEndian64(format::kFormatVersion));
    if (put.ok()) {
      put = batch.Put(Cf(ColumnFamily::kMeta),
                      ToSlice(format::kMetaHeadPosition),
                      format::EncodeBigEndian64(0));
    }
    if (put.ok()) {
      put = batch.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaHeadHash),
                      ZeroHash());
    }
    if (!put.ok()) return RocksError(put, "initialize meta");
    rocksdb::WriteOptions write;
    write.sync = true;
    s = db_->Write(write, &batch);
    if (!s.ok()) return RocksError(s, "initialize meta");
  } else if (!s.ok()) {
    return RocksError(s, "read the format version");
  } else {
    uint64_t version = 0;
    if (!format::ParseBigEndian64(value, &version)) {
      return Corrupt("meta format_version is not 8 bytes; refusing to open");
    }
    if (version != format::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event log format version ", version,
          " is not supported (this build reads version ",
          format::kFormatVersion, "); refusing to open"));
    }
  }
  ASSIGN_OR_RETURN(Head head, ReadMetaHead(read));
  RETURN_IF_ERROR(VerifyHead(head));
  RETURN_IF_ERROR(RecoverMerkle(head));
  committed_ = head;
  absl::MutexLock lock(&head_mu_);
  head_ = head;
  return absl::OkStatus();
}

absl::Status RocksEventLog::RecoverMerkle(const Head& head) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Cf(ColumnFamily::kMeta),
                               ToSlice(format::kMetaMerkleFrontier), &value);
  merkle::Frontier frontier;
  if (s.ok()) {
    absl::StatusOr<merkle::Frontier> decoded = merkle::DecodeFrontier(value);
    if (!decoded.ok()) {
      return Corrupt(absl::StrCat(decoded.status().message(),
                                  "; refusing to open"));
    }
    frontier = *std::move(decoded);
  } else if (!s.IsNotFound()) {
    return RocksError(s, "read the merkle frontier");
  }
  if (frontier.size > head.position) {
    return Corrupt(absl::StrCat("the merkle tree has ", frontier.size,
                                " leaves but the head position is ",
                                head.position, "; refusing to open"));
  }
  if (frontier.size < head.position) {
    // Positions written without the tree: add them now, in bounded
    // batches; the frontier goes last, so a crash here starts over.
    constexpr size_t kBatchBytes = 8 << 20;
    rocksdb::WriteOptions write;
    write.sync = false;
    rocksdb::WriteBatch batch;
    rocksdb::Status put;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), Cf(ColumnFamily::kEvents)));
    uint64_t expected = frontier.size + 1;
    for (it->Seek(format::EventKey(expected));
         it->Valid() && expected <= head.position; it->Next(), ++expected) {
      v1::RecordedEvent event;
      RETURN_IF_ERROR(DecodeEvent(it->key(), it->value(), expected, &event));
      absl::string_view hash, stored;
      format::ParseEventValue(ToView(it->value()), &hash, &stored);
      put = StageTreeAndCorrection(stored, event.event(), expected, &frontier,
                                   &batch);
      if (!put.ok()) return RocksError(put, "build the merkle tree");
      if (batch.GetDataSize() >= kBatchBytes) {
        s = db_->Write(write, &batch);
        if (!s.ok()) return RocksError(s, "write the merkle tree");
        batch.Clear();
      }
    }
    if (!it->status().ok()) return RocksError(it->status(), "read events");
    if (frontier.size != head.position) {
      return Corrupt(absl::StrCat("position ", expected,
                                  " is missing; refusing to open"));
    }
    put = batch.Put(Cf(ColumnFamily::kMeta),
                    ToSlice(format::kMetaMerkleFrontier),
                    merkle::EncodeFrontier(frontier));
    if (!put.ok()) return RocksError(put, "build the merkle tree");
    write.sync = true;
    s = db_->Write(write, &batch);
    if (!s.ok()) return RocksError(s, "write the merkle tree");
  }
  const std::string root = merkle::RootOf(frontier);
  frontier_ = std::move(frontier);
  absl::MutexLock lock(&head_mu_);
  tree_head_ = {frontier_.size, root};
  return absl::OkStatus();
}

absl::Status RocksEventLog::VerifyHead(const Head& head) {
  const rocksdb::ReadOptions read;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
  it->SeekToLast();
  if (it->Valid()) {
    uint64_t last = 0;
    if (!format::ParseEventKey(ToView(it->key()), &last)) {
      return Corrupt("malformed key in events; refusing to open");
    }
    if (last > head.position) {
      return Corrupt(absl::StrCat("position ", last,
                                  " exists beyond the head position ",
                                  head.position, " in meta; refusing to open"));
    }
  } else if (!it->status().ok()) {
    return RocksError(it->status(), "read events");
  }
  if (head.position == 0) {
    if (head.hash != ZeroHash()) {
      return Corrupt("the log is empty but meta's head hash is not zero");
    }
    return absl::OkStatus();
  }

  auto read_value = [&](uint64_t position, std::string* value) {
    rocksdb::Status s = db_->Get(read, Cf(ColumnFamily::kEvents),
                                 format::EventKey(position), value);
    if (s.IsNotFound()) {
      return Corrupt(absl::StrCat("position ", position,
                                  " is missing (head is ", head.position,
                                  "); refusing to open"));
    }
    if (!s.ok()) return RocksError(s, "read events");
    if (value->size() < format::kHashSize) {
      return Corrupt(absl::StrCat("value of position ", position,
                                  " is truncated; refusing to open"));
    }
    return absl::OkStatus();
  };
  std::string value;
  RETURN_IF_ERROR(read_value(head.position, &value));
  absl::string_view hash, stored;
  format::ParseEventValue(value, &hash, &stored);
  if (hash != head.hash) {
    return Corrupt(absl::StrCat("hash of position ", head.position,
                                " does not match the head hash in meta; "
                                "refusing to open"));
  }
  std::string previous = ZeroHash();
  if (head.position > 1) {
    std::string previous_value;
    RETURN_IF_ERROR(read_value(head.position - 1, &previous_value));
    previous = previous_value.substr(0, format::kHashSize);
  }
  if (ChainHash(previous, stored) != hash) {
    return Corrupt(absl::StrCat(
        "hash of position ", head.position, " does not match SHA-256(hash of "
        "position ", head.position - 1, " || its stored bytes); refusing to open"));
  }
  v1::RecordedEvent event;
  if (!event.ParseFromArray(stored.data(), static_cast<int>(stored.size())) ||
      event.position() != head.position) {
    return Corrupt(absl::StrCat("stored bytes of position ", head.position,
                                " are not its RecordedEvent; refusing to open"));
  }
  last_recorded_at_ = FromTimestamp(event.recorded_at());
  return absl::OkStatus();
}

void RocksEventLog::StartWriter() {
  {
    absl::MutexLock lock(&head_mu_);
    read_snapshot_ = TakeSnapshot();
  }
  absl::MutexLock lock(&close_mu_);
  syncer_ = std::thread(&RocksEventLog::SyncerLoop, this);
  writer_ = std::thread(&RocksEventLog::WriterLoop, this);
}

void RocksEventLog::Close() {
  absl::MutexLock close_lock(&close_mu_);
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // The writer commits what is queued, then sees closed_ and returns; the
  // syncer then answers everything handed to it and returns.
  if (writer_.joinable()) writer_.join();
  if (syncer_.joinable()) syncer_.join();
  absl::MutexLock lock(&head_mu_);
  read_snapshot_.reset();  // before the database closes
}

// ---------------------------------------------------------------------------
// Write path

void RocksEventLog::AppendAsync(AppendBatch batch, AppendCallback done) {
  auto request = std::make_unique<Request>();
  for (const v1::Event& event : batch.events) {
    request->bytes += event.ByteSizeLong();
  }
  request->batch = std::move(batch);
  request->done = std::move(done);
  absl::Status rejected;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      rejected = absl::UnavailableError("event log is closed");
    } else if (!failed_.ok()) {
      rejected = failed_;
    } else {
      queue_.push_back(std::move(request));
      return;
    }
  }
  std::move(request->done)(std::move(rejected));
}

void RocksEventLog::WriterLoop() {
  std::vector<std::unique_ptr<Request>> requests;
  while (TakeGroup(&requests)) {
    if (requests.size() == 1 && requests[0]->exclusive) {
      // Alone: nothing in flight, and readers read the latest state, which
      // is then all durable, including what the task writes (synced).
      DrainSyncer();
      {
        absl::MutexLock lock(&head_mu_);
        read_latest_ = true;
      }
      std::move(requests[0]->exclusive)();
      std::shared_ptr<const rocksdb::Snapshot> after = TakeSnapshot();
      {
        absl::MutexLock lock(&head_mu_);
        read_snapshot_ = std::move(after);
        read_latest_ = false;
      }
      if (requests[0]->after_exclusive) {
        std::move(requests[0]->after_exclusive)();
      }
    } else {
      Commit commit = CommitGroup(requests);
      commit.requests = std::move(requests);
      Enqueue(std::move(commit));
    }
    requests.clear();
  }
  absl::MutexLock lock(&sync_mu_);
  writer_done_ = true;
}

std::shared_ptr<const rocksdb::Snapshot> RocksEventLog::TakeSnapshot() const {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(
      db->GetSnapshot(),
      [db](const rocksdb::Snapshot* snapshot) { db->ReleaseSnapshot(snapshot); });
}

void RocksEventLog::Enqueue(Commit commit) {
  absl::MutexLock lock(&sync_mu_);
  to_sync_.push_back(std::move(commit));
}

void RocksEventLog::DrainSyncer() {
  absl::MutexLock lock(&sync_mu_,
                       absl::Condition(this, &RocksEventLog::SyncerIdle));
}

void RocksEventLog::SyncerLoop() {
  std::deque<Commit> commits;
  while (true) {
    absl::Status failed;
    {
      absl::MutexLock lock(&sync_mu_,
                           absl::Condition(this, &RocksEventLog::SyncerHasWork));
      if (to_sync_.empty()) return;  // the writer is done
      commits.swap(to_sync_);
      syncing_ = true;
      failed = sync_failed_;
    }
    // One sync for every group written so far.
    const bool wrote = std::any_of(commits.begin(), commits.end(),
                                   [](const Commit& c) { return c.wrote; });
    if (failed.ok() && wrote && options_.sync) {
      rocksdb::Status s = db_->SyncWAL();
      if (!s.ok()) {
        // Written but maybe not durable: never acknowledged, and the log
        // stops taking appends, as after a failed write.
        failed = absl::UnavailableError(absl::StrCat(
            "event log failed and accepts no more appends: ",
            RocksError(s, "sync the write-ahead log").message()));
        {
          absl::MutexLock lock(&mu_);
          failed_ = failed;
        }
        absl::MutexLock lock(&sync_mu_);
        sync_failed_ = failed;
      }
    }
    for (Commit& commit : commits) {
      if (commit.wrote && !failed.ok()) {
        for (const auto& request : commit.requests) request->result = failed;
      } else if (commit.wrote) {
        Publish(commit);
        if (options_.on_commit) {
          std::vector<const v1::RecordedEvent*> events =
              StagedEvents(commit.requests);
          if (!events.empty()) options_.on_commit(events, commit.head);
        }
      }
      Respond(&commit.requests);
    }
    commits.clear();
    absl::MutexLock lock(&sync_mu_);
    syncing_ = false;
  }
}

void RocksEventLog::Publish(const Commit& commit) {
  absl::MutexLock lock(&head_mu_);
  head_ = commit.head;
  if (commit.grew) tree_head_ = commit.tree_head;
  read_snapshot_ = commit.snapshot;
}

std::shared_ptr<const rocksdb::Snapshot> RocksEventLog::ReadSnapshot() const {
  absl::MutexLock lock(&head_mu_);
  if (read_latest_) return nullptr;
  return read_snapshot_;
}

bool RocksEventLog::TakeGroup(std::vector<std::unique_ptr<Request>>* requests) {
  if (options_.before_group) {
    {
      absl::MutexLock lock(&mu_,
                           absl::Condition(this, &RocksEventLog::WriterHasWork));
    }
    options_.before_group();
  }
  absl::MutexLock lock(&mu_,
                       absl::Condition(this, &RocksEventLog::WriterHasWork));
  size_t events = 0;
  size_t bytes = 0;
  while (!queue_.empty()) {
    const Request& next = *queue_.front();
    if (next.exclusive) {
      // Alone: after the appends queued before it, before those after it.
      if (requests->empty()) {
        requests->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      break;
    }
    const size_t n = next.batch.events.size();
    if (!requests->empty() && (events + n > options_.max_group_events ||
                               bytes + next.bytes > options_.max_group_bytes)) {
      break;
    }
    events += n;
    bytes += next.bytes;
    requests->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return !requests->empty();
}

RocksEventLog::Commit RocksEventLog::CommitGroup(
    const std::vector<std::unique_ptr<Request>>& requests) {
  Commit commit;
  if (write_failed_.ok()) {
    absl::MutexLock lock(&sync_mu_);
    if (!sync_failed_.ok()) write_failed_ = sync_failed_;
  }
  if (!write_failed_.ok()) {
    for (const auto& request : requests) request->result = write_failed_;
    return commit;
  }
  Group group;
  group.head = committed_;
  group.frontier = frontier_;
  // recorded_at never decreases along the log, even if the clock steps back.
  group.recorded_at = std::max(absl::Now(), last_recorded_at_);
  SetTimestamp(group.recorded_at, &group.recorded_at_proto);

  BuildBatchGroup(requests, &group);
  if (group.broken.ok() && group.staged_events > 0 &&
      options_.projector != nullptr) {
    absl::Status projected = ProjectGroup(requests, &group);
    if (!projected.ok()) {
      // Nothing is written and the head stays; the log goes on. Requests
      // that failed their own checks were decided against a group that will
      // not commit, so they get this answer too.
      const absl::Status failure = absl::InternalError(absl::StrCat(
          "projection failed, nothing was written: ", projected.message()));
      for (const auto& request : requests) request->result = failure;
      return commit;
    }
  }
  if (!group.broken.ok() || group.staged_events > 0) {
    absl::Status written =
        group.broken.ok() ? WriteGroup(&group) : group.broken;
    if (!written.ok()) {
      // Nothing of the group is acknowledged, and the log stops taking
      // appends: the head stays where it was.
      write_failed_ = absl::UnavailableError(
          absl::StrCat("event log failed and accepts no more appends: ",
                       written.message()));
      {
        absl::MutexLock lock(&mu_);
        failed_ = write_failed_;
      }
      for (const auto& request : requests) request->result = write_failed_;
      return commit;
    }
    commit.wrote = true;
    commit.snapshot = TakeSnapshot();
    // The group is done with: its entries move into the cache.
    group.projections.MoveOut(
        ProjectionFamily::kRelationships,
        [this](const std::string& key, std::optional<std::string> value) {
          projection_cache_.Remember(key, std::move(value));
        });
  }
  commit.grew = group.head.position != committed_.position;
  Advance(group);
  commit.head = committed_;
  if (commit.grew) {
    commit.tree_head = {frontier_.size, merkle::RootOf(frontier_)};
  }
  for (const auto& request : requests) {
    if (request->result.ok()) request->result->head = group.head.position;
  }
  return commit;
}

std::vector<const v1::RecordedEvent*> RocksEventLog::StagedEvents(
    const std::vector<std::unique_ptr<Request>>& requests) {
  // Requests were staged in queue order with increasing positions, so this
  // is position order.
  std::vector<const v1::RecordedEvent*> events;
  for (const auto& request : requests) {
    if (!request->result.ok() || request->result->already_recorded) continue;
    for (const v1::RecordedEvent& r : request->recorded) events.push_back(&r);
  }
  return events;
}

// The projector's view of a commit group: the group's indexed batch over the
// committed database.
class RocksEventLog::GroupContext final : public OverlayContext {
 public:
  GroupContext(RocksEventLog* log, Group* group)
      : OverlayContext(log->db_.get(),
                       {log->ProjectionCf(ProjectionFamily::kDyadTimeline),
                        log->ProjectionCf(ProjectionFamily::kRelationships)},
                       &group->batch, &group->projections,
                       &log->projection_cache_),
        log_(log),
        group_(group) {}

  absl::StatusOr<uint64_t> PositionOf(absl::string_view id) override {
    if (auto it = group_->ids.find(id); it != group_->ids.end()) {
      return it->second->position();
    }
    return log_->CommittedPositionOf(id);
  }

  absl::StatusOr<v1::RecordedEvent> EventAt(uint64_t position) override {
    const uint64_t committed = log_->committed_.position;
    if (position > committed && position - committed <= group_->staged.size()) {
      return *group_->staged[position - committed - 1];
    }
    return log_->ReadEventAt(rocksdb::ReadOptions(), position);
  }

 private:
  const RocksEventLog* const log_;
  Group* const group_;
};

absl::Status RocksEventLog::ProjectGroup(
    const std::vector<std::unique_ptr<Request>>& requests, Group* group) {
  GroupContext context(this, group);
  return options_.projector->Project(StagedEvents(requests), &context);
}

void RocksEventLog::BuildBatchGroup(
    const std::vector<std::unique_ptr<Request>>& requests, Group* group) {
  for (const auto& request : requests) {
    uint64_t current = 0;
    absl::StatusOr<std::optional<AppendResult>> decided =
        CheckRequest(*request, *group, &current);
    if (!decided.ok()) {
      request->result = std::move(decided).status();
    } else if (decided->has_value()) {
      request->result = **std::move(decided);
    } else {
      absl::Status staged = StageRequest(request.get(), current, group);
      if (!staged.ok()) request->result = std::move(staged);
    }
  }
}

absl::StatusOr<std::optional<AppendResult>> RocksEventLog::CheckRequest(
    const Request& request, const Group& group, uint64_t* current) {
  const AppendBatch& batch = request.batch;
  // The caller validated the batch; these would corrupt the format.
  if (batch.events.empty()) {
    return absl::InvalidArgumentError("events: at least one event is required");
  }
  if (batch.stream.empty() ||
      batch.stream.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "stream: must be non-empty and contain no NUL byte");
  }

  // 1. Idempotency: which ids are already recorded (committed or staged)?
  absl::flat_hash_map<absl::string_view, size_t> batch_ids;
  AppendResult retry;
  retry.stream = batch.stream;
  retry.already_recorded = true;
  std::string first_recorded_id;  // of the first recorded event, if any
  uint64_t first_recorded_position = 0;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const v1::Event& event = batch.events[i];
    if (event.id().empty() || event.id().find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].id: must be non-empty and contain no NUL byte"));
    }
    auto [it, inserted] = batch_ids.emplace(event.id(), i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].id: repeats events[", it->second, "].id"));
    }
    v1::RecordedEvent scratch;
    ASSIGN_OR_RETURN(const v1::RecordedEvent* known,
                     FindEvent(group, event.id(), &scratch));
    if (known == nullptr) continue;
    if (!google::protobuf::util::MessageDifferencer::Equals(event,
                                                            known->event())) {
      return rpc::DuplicateEventId(event.id(), known->position(),
                                   "recorded with different content");
    }
    if (known->stream() != batch.stream) {
      return rpc::DuplicateEventId(
          event.id(), known->position(),
          absl::StrCat("recorded in stream ", known->stream()));
    }
    retry.positions.push_back(known->position());
    retry.stream_version = known->stream_version();
    if (first_recorded_id.empty()) {
      first_recorded_id = event.id();
      first_recorded_position = known->position();
    }
  }
  if (retry.positions.size() == batch.events.size()) return retry;
  if (!retry.positions.empty()) {
    return rpc::DuplicateEventId(
        first_recorded_id, first_recorded_position,
        "only some events of the batch are recorded; a retry must repeat the "
        "original batch exactly");
  }

  // 2. Expected version (not checked for a retry, above).
  ASSIGN_OR_RETURN(*current, StreamVersion(group, batch.stream));
  if (!Matches(batch.expected, *current)) {
    return rpc::WrongExpectedVersion(batch.stream, batch.expected.ToString(),
                                     *current);
  }

  // 3. Corrections name an earlier event that is not itself a correction.
  for (size_t i = 0; i < batch.events.size(); ++i) {
    if (!batch.events[i].has_correction()) continue;
    const std::string& target_id =
        batch.events[i].correction().corrects_event_id();
    const std::string field =
        absl::StrCat("events[", i, "].correction.corrects_event_id");
    bool target_is_correction = false;
    auto in_batch = batch_ids.find(target_id);
    if (in_batch != batch_ids.end()) {
      if (in_batch->second >= i) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": event \"", target_id,
            "\" is not earlier in the log or the batch"));
      }
      target_is_correction =
          batch.events[in_batch->second].has_correction();
    } else {
      v1::RecordedEvent scratch;
      ASSIGN_OR_RETURN(const v1::RecordedEvent* target,
                       FindEvent(group, target_id, &scratch));
      if (target == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": event \"", target_id, "\" is not in the log"));
      }
      target_is_correction = target->event().has_correction();
    }
    if (target_is_correction) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": event \"", target_id,
                       "\" is itself a correction; correct the original"));
    }
  }
  return std::nullopt;
}

absl::Status RocksEventLog::StageRequest(Request* request, uint64_t current,
                                         Group* group) {
  AppendBatch& batch = request->batch;
  const size_t n = batch.events.size();

  // Build and serialize every event before touching the group, so that a
  // failure leaves the group as it was.
  std::vector<v1::RecordedEvent>& recorded = request->recorded;
  recorded.clear();
  recorded.reserve(n);
  std::vector<std::string> stored(n);
  for (size_t i = 0; i < n; ++i) {
    v1::RecordedEvent& r = recorded.emplace_back();
    *r.mutable_event() = std::move(batch.events[i]);
    r.set_position(group->head.position + i + 1);
    r.set_stream(batch.stream);
    r.set_stream_version(current + i + 1);
    *r.mutable_recorded_at() = group->recorded_at_proto;
    r.set_principal(batch.principal);
    if (!r.SerializeToString(&stored[i])) {
      recorded.clear();
      return absl::InternalError(
          absl::StrCat("events[", i, "]: cannot be serialized"));
    }
  }

  rocksdb::WriteBatch& wb = group->batch;
  wb.SetSavePoint();
  std::string hash = group->head.hash;
  merkle::Frontier frontier = group->frontier;
  rocksdb::Status s;
  for (size_t i = 0; i < n && s.ok(); ++i) {
    v1::RecordedEvent& r = recorded[i];
    hash = ChainHash(hash, stored[i]);
    s = StageTreeAndCorrection(stored[i], r.event(), r.position(), &frontier,
                               &wb);
    r.set_hash(hash);  // after serializing: `stored` never holds it
    const std::string position = format::EncodeBigEndian64(r.position());
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kEvents), format::EventKey(r.position()),
                 format::EventValue(hash, stored[i]));
    }
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kStreams),
                 format::StreamKey(r.stream(), r.stream_version()), position);
    }
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kEventIds), ToSlice(r.event().id()),
                 position);
    }
  }
  if (!s.ok()) {
    rocksdb::Status rolled_back = wb.RollbackToSavePoint();
    recorded.clear();
    if (!rolled_back.ok()) {
      // The batch can no longer be trusted: fail the whole group.
      group->broken = RocksError(rolled_back, "roll back a write batch");
      return group->broken;
    }
    return RocksError(s, "build the write batch");
  }
  s = wb.PopSavePoint();
  (void)s;  // NotFound only when no save point is set; one was.

  AppendResult result;
  result.stream = batch.stream;
  for (const v1::RecordedEvent& r : recorded) {
    result.positions.push_back(r.position());
    group->ids[r.event().id()] = &r;
    group->staged.push_back(&r);
  }
  result.stream_version = current + n;
  group->head.position += n;
  group->head.hash = std::move(hash);
  group->frontier = std::move(frontier);
  group->stream_versions[batch.stream] = current + n;
  group->staged_events += n;
  request->result = std::move(result);
  return absl::OkStatus();
}

absl::Status RocksEventLog::WriteGroup(Group* group) {
  rocksdb::WriteBatch& wb = group->batch;
  rocksdb::Status s = wb.Put(Cf(ColumnFamily::kMeta),
                             ToSlice(format::kMetaHeadPosition),
                             format::EncodeBigEndian64(group->head.position));
  if (s.ok()) {
    s = wb.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaHeadHash),
               group->head.hash);
  }
  if (s.ok()) {
    s = wb.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaMerkleFrontier),
               merkle::EncodeFrontier(group->frontier));
  }
  if (!s.ok()) return RocksError(s, "build the write batch");
  // Not synced here: the syncer syncs (SyncerLoop) while this thread
  // builds the next group.
  rocksdb::WriteOptions write;
  write.sync = false;
  s = db_->Write(write, &wb);
  if (!s.ok()) return RocksError(s, "write");
  return absl::OkStatus();
}

void RocksEventLog::Advance(const Group& group) {
  if (group.head.position != committed_.position) frontier_ = group.frontier;
  committed_ = group.head;
  last_recorded_at_ = group.recorded_at;
  for (const auto& [stream, version] : group.stream_versions) {
    if (version_cache_.size() >= kMaxCachedStreams &&
        !version_cache_.contains(stream)) {
      version_cache_.clear();
    }
    version_cache_[stream] = version;
  }
}

void RocksEventLog::Respond(std::vector<std::unique_ptr<Request>>* requests) {
  for (const auto& request : *requests) {
    std::move(request->done)(std::move(request->result));
  }
}

absl::StatusOr<uint64_t> RocksEventLog::StreamVersion(
    const Group& group, const std::string& stream) {
  if (auto it = group.stream_versions.find(stream);
      it != group.stream_versions.end()) {
    return it->second;
  }
  if (auto it = version_cache_.find(stream); it != version_cache_.end()) {
    return it->second;
  }
  // The writer is the only one who writes: the latest state is committed.
  ASSIGN_OR_RETURN(uint64_t version,
                   ReadStreamVersion(rocksdb::ReadOptions(), stream));
  if (version_cache_.size() >= kMaxCachedStreams) version_cache_.clear();
  version_cache_[stream] = version;
  return version;
}

absl::StatusOr<const v1::RecordedEvent*> RocksEventLog::FindEvent(
    const Group& group, absl::string_view id, v1::RecordedEvent* scratch) {
  if (auto it = group.ids.find(id); it != group.ids.end()) return it->second;
  absl::StatusOr<uint64_t> position = CommittedPositionOf(id);
  if (absl::IsNotFound(position.status())) return nullptr;
  if (!position.ok()) return position.status();
  ASSIGN_OR_RETURN(*scratch, ReadEventAt(rocksdb::ReadOptions(), *position));
  return scratch;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLog(
    const std::string& path, const LogOptions& options) {
  return RocksEventLog::Open(path, options, nullptr);
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLogWithEnv(
    const std::string& path, const LogOptions& options, rocksdb::Env* env) {
  return RocksEventLog::Open(path, options, env);
}

}  // namespace annals::storage
