// Opening and closing the RocksDB event log (rocks_event_log_impl.h). Open
// opens the database with EventLogRocksOptions (rocks_options.cc) and
// recovers before the writer starts: Recover reads meta's format version
// (writing a new database's meta) and head, VerifyHead checks the head
// against the last stored event, RecoverMerkle extends the Merkle tree over
// positions written without it, and CheckProjections (rocks_rebuild.cc)
// rebuilds projections of another version. StartWriter then starts the
// writer and syncer threads (rocks_writer.cc), which Close stops. Also the
// factories of storage/event_log.h and storage/rocks_event_log.h.

#include <pthread.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/merkle.h"
#include "storage/rocks_event_log.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_info_log.h"
#include "storage/rocks_options.h"
#include "storage/replica.h"
#include "storage/rocks_internal.h"
#include "storage/status_macros.h"

namespace annals::storage {
namespace {

using format::ColumnFamily;

// RocksDB's LOG passes to LOG.old beyond this.
constexpr uint64_t kMaxInfoLogBytes = 16 << 20;

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksEventLog>> RocksEventLog::Open(
    const std::string& path, const LogOptions& options, rocksdb::Env* env,
    absl::string_view replica_of) {
  RocksOptions rocks = EventLogRocksOptions(options, env);
  auto background_errors = std::make_shared<BackgroundErrorListener>();
  rocks.db.listeners.push_back(background_errors);
  absl::StatusOr<std::shared_ptr<InfoLog>> info_log =
      InfoLog::Open(path, kMaxInfoLogBytes);
  if (!info_log.ok()) return info_log.status();
  rocks.db.info_log = *std::move(info_log);
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      rocksdb::DB::Open(rocks.db, path, rocks.column_families, &handles, &db);
  if (s.IsCorruption()) {
    // The WAL is replayed in full (kTolerateCorruptedTailRecords): only a
    // record torn by a crash at its very end is dropped, and it was never
    // acknowledged. Anything else means acknowledged events may be gone.
    return absl::DataLossError(absl::StrCat(
        "the event log at ", path, " is corrupt (", s.ToString(),
        "): events that were acknowledged may be missing, so it is not "
        "served. Restore the data directory from a backup or a replica; "
        "RocksDB's LOG in it names the damaged file"));
  }
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot open event log at ", path, ": ", s.ToString()));
  }
  std::unique_ptr<RocksEventLog> log(
      new RocksEventLog(options, db, std::move(handles),
                        std::move(background_errors), replica_of));
  RETURN_IF_ERROR(log->Recover());
  RETURN_IF_ERROR(log->CheckProjections());
  log->StartWriter();
  return log;
}

RocksEventLog::RocksEventLog(
    const LogOptions& options, rocksdb::DB* db,
    std::vector<rocksdb::ColumnFamilyHandle*> handles,
    std::shared_ptr<BackgroundErrorListener> background_errors,
    absl::string_view replica_of)
    : options_(options),
      projector_(options.projector),
      replica_of_(replica_of),
      db_(db),
      handles_(std::move(handles)),
      background_errors_(std::move(background_errors)) {}

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
  RETURN_IF_ERROR(RecoverReplica(head));
  committed_ = head;
  absl::MutexLock lock(&head_mu_);
  head_ = head;
  applied_sequence_ = committed_sequence_;
  return absl::OkStatus();
}

absl::Status RocksEventLog::RecoverReplica(const Head& head) {
  const rocksdb::ReadOptions read;
  std::string of;
  rocksdb::Status s = db_->Get(read, Cf(ColumnFamily::kMeta),
                               ToSlice(format::kMetaLogOfRecord), &of);
  if (s.IsNotFound()) {
    of.clear();
  } else if (!s.ok()) {
    return RocksError(s, "read the log of record");
  }
  if (of != replica_of_) {
    if (replica_of_.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the event log holds a replica of ", of, "; it is opened only as "
          "one, since an append written to it directly would part it from "
          "the other replicas"));
    }
    if (!of.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the event log is a replica of ", of, ", not of ",
                       replica_of_, "; refusing to open"));
    }
    if (head.position > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the event log holds an embedded log of ", head.position,
          " events, not a replica of ", replica_of_,
          "; a replica starts empty or from a replica's backup"));
    }
    rocksdb::WriteBatch batch;
    s = batch.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaLogOfRecord),
                  replica_of_);
    if (!s.ok()) return RocksError(s, "record the log of record");
    rocksdb::WriteOptions write;
    write.sync = true;
    s = db_->Write(write, &batch);
    if (!s.ok()) return RocksError(s, "record the log of record");
  }
  std::string applied;
  s = db_->Get(read, Cf(ColumnFamily::kMeta),
               ToSlice(format::kMetaAppliedSequence), &applied);
  if (s.IsNotFound()) return absl::OkStatus();
  if (!s.ok()) return RocksError(s, "read the applied sequence");
  if (!format::ParseBigEndian64(applied, &committed_sequence_)) {
    return Corrupt("meta applied_sequence is not 8 bytes; refusing to open");
  }
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
    // What an earlier run wrote since its last pause waits for this one's.
    anchor_ = read_snapshot_;
    anchor_taken_ = absl::Now();
  }
  absl::MutexLock lock(&close_mu_);
  syncer_ = std::thread(&RocksEventLog::SyncerLoop, this);
  writer_ = std::thread(&RocksEventLog::WriterLoop, this);
  // Named for top -H, perf and /proc/PID/task/*/comm.
  pthread_setname_np(syncer_.native_handle(), "annals-syncer");
  pthread_setname_np(writer_.native_handle(), "annals-writer");
  if (options_.idle_merge_after > absl::ZeroDuration()) {
    std::vector<rocksdb::ColumnFamilyHandle*> families;
    for (format::ColumnFamily cf : kMergedAtRest) families.push_back(Cf(cf));
    idle_merge_ = std::make_unique<IdleLevel0Merge>(
        db_.get(), std::move(families), [this] { return WriterProgress(); },
        options_.idle_merge_after, kWideLevel0Tables, kWideLevel0TablesAtRest);
  }
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
  idle_merge_.reset();
  anchor_.reset();  // the writer's, which has returned
  absl::MutexLock lock(&head_mu_);
  read_snapshot_.reset();  // before the database closes
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLog(
    const std::string& path, const LogOptions& options) {
  return RocksEventLog::Open(path, options, nullptr, "");
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksEventLogWithEnv(
    const std::string& path, const LogOptions& options, rocksdb::Env* env) {
  return RocksEventLog::Open(path, options, env, "");
}

absl::StatusOr<std::unique_ptr<ReplicaLog>> OpenRocksReplica(
    const std::string& path, const LogOptions& options,
    absl::string_view log_of_record) {
  if (log_of_record.empty()) {
    return absl::InvalidArgumentError("a replica needs its log of record");
  }
  return RocksEventLog::Open(path, options, nullptr, log_of_record);
}

}  // namespace annals::storage
