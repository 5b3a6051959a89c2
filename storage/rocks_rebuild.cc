// Rebuilding projections (rocks_event_log_impl.h). RebuildProjections with
// repair queues the rebuild as an exclusive task: the writer runs it alone,
// with nothing in flight. A check (without repair) changes nothing: it runs
// on the caller's thread, on a snapshot, while appends go on. DoRebuild replays the whole log through the projector
// into a scratch database (ProjectInto, RebuildContext being the projector's
// view), then walks it and the stored projections together in key order
// (MergeProjections), counting what differs and, with repair, replacing
// what is stored. CheckProjections, the last step of Open, rebuilds when
// meta's projection_version is not the projector's.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "annals/v1/event.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/rocks_options.h"
#include "storage/rocks_projection_overlay.h"
#include "storage/status_macros.h"

namespace annals::storage {

using format::ColumnFamily;

// Projections recomputed into a scratch database, one column family per
// projection family: the projector's view of a rebuild. Reads events from
// the committed log. What it puts gathers in the overlay the projector
// reads back (StagedProjections, as the writer's), until Flush writes it
// without a WAL: the scratch database does not
// outlive the rebuild.
class RocksEventLog::RebuildContext final : public OverlayContext {
 public:
  RebuildContext(const RocksEventLog* log, const rocksdb::ReadOptions& read,
                 rocksdb::DB* scratch,
                 const std::vector<rocksdb::ColumnFamilyHandle*>& families)
      : OverlayContext(scratch, {families[0], families[1]}, &batch_, &staged_),
        log_(log),
        read_(read),
        scratch_(scratch) {}

  absl::StatusOr<v1::RecordedEvent> EventAt(uint64_t position) override {
    return log_->ReadEventAt(read_, position);
  }
  absl::StatusOr<uint64_t> PositionOf(absl::string_view id) override {
    return log_->PositionOf(id, read_);
  }

  // Writes what was put since the last Flush into the scratch database.
  absl::Status Flush() {
    RETURN_IF_ERROR(WriteStaged());
    rocksdb::WriteOptions write;
    write.disableWAL = true;
    rocksdb::Status s = scratch_->Write(write, &batch_);
    batch_.Clear();
    staged_ = StagedProjections();
    return s.ok() ? absl::OkStatus() : RocksError(s, "write the rebuild");
  }

 private:
  const RocksEventLog* const log_;
  const rocksdb::ReadOptions read_;  // the log as the rebuild sees it
  rocksdb::DB* const scratch_;
  // Declared after the base, which only keeps their addresses.
  rocksdb::WriteBatch batch_;
  StagedProjections staged_;
};

namespace {

constexpr ProjectionFamily kProjectionFamilies[] = {
    ProjectionFamily::kDyadTimeline, ProjectionFamily::kRelationships};

absl::string_view FamilyName(ProjectionFamily family) {
  return format::ColumnFamilyName(family == ProjectionFamily::kDyadTimeline
                                      ? ColumnFamily::kDyadTimeline
                                      : ColumnFamily::kRelationships);
}

// Options of the scratch database: small memtables and cache, so that a
// rebuild's memory does not grow with the log; no compression, since it
// lives only as long as the rebuild.
rocksdb::Options ScratchOptions(rocksdb::Env* env) {
  rocksdb::Options options;
  options.env = env;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.error_if_exists = true;
  options.write_buffer_size = 16 << 20;
  options.max_write_buffer_number = 2;
  options.db_write_buffer_size = 32 << 20;  // both families' memtables
  options.compression = rocksdb::kNoCompression;
  options.keep_log_file_num = 1;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(16 << 20);
  table.format_version = 5;
  PartitionIndexAndFilters(&table);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The scratch database's column families: RocksDB's default, then one per
// projection family in the order of kProjectionFamilies.
std::vector<rocksdb::ColumnFamilyDescriptor> ScratchFamilies(
    const rocksdb::Options& options) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, options);
  for (ProjectionFamily family : kProjectionFamilies) {
    families.emplace_back(std::string(FamilyName(family)), options);
  }
  return families;
}

// Removes the scratch database at `path`, if there is one.
absl::Status RemoveScratch(rocksdb::Env* env, const std::string& path) {
  if (env->FileExists(path).IsNotFound()) return absl::OkStatus();
  const rocksdb::Options options = ScratchOptions(env);
  rocksdb::Status s =
      rocksdb::DestroyDB(path, options, ScratchFamilies(options));
  return s.ok() ? absl::OkStatus()
                : RocksError(s, "remove the scratch database of a rebuild");
}

}  // namespace

absl::StatusOr<RebuildReport> RocksEventLog::RebuildProjections(bool repair) {
  if (projector_ == nullptr) {
    return absl::FailedPreconditionError(
        "this event log keeps no projections (it was opened without a "
        "projector)");
  }
  if (!repair) return CheckOnSnapshot();
  absl::Notification done;
  absl::StatusOr<RebuildReport> result;
  auto request = std::make_unique<Request>();
  // The projector hears of it before anything is rewritten, and once
  // readers see the result.
  request->exclusive = [this, &result] {
    projector_->RebuildStarting();
    // Odd: nothing readers derive from here on is kept (KeepCache), and
    // what they kept before goes with the caches the repair drops.
    BumpCacheEpoch();
    absl::MutexLock lock(&rebuild_mu_);
    result = write_failed_.ok()
                 ? DoRebuild(rocksdb::ReadOptions(), committed_.position,
                             /*repair=*/true)
                 : write_failed_;
  };
  request->after_exclusive = [this, &done] {
    projector_->RebuildEnded();
    BumpCacheEpoch();  // even: readers now read what the repair wrote
    done.Notify();
  };
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("event log is closed");
    queue_.push_back(std::move(request));
  }
  done.WaitForNotification();
  return result;
}

absl::StatusOr<RebuildReport> RocksEventLog::CheckOnSnapshot() {
  absl::MutexLock lock(&rebuild_mu_);
  // Everything written so far, durable or not yet: each commit is one
  // WriteBatch, so the events and their projections agree on it.
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = TakeSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  ASSIGN_OR_RETURN(const Head head, ReadMetaHead(read));
  return DoRebuild(read, head.position, /*repair=*/false);
}

std::string RocksEventLog::ScratchPath() const {
  return db_->GetName() + "/projection-rebuild";
}

absl::StatusOr<RebuildReport> RocksEventLog::DoRebuild(
    const rocksdb::ReadOptions& read, uint64_t head, bool repair) {
  // A repair rewrites the projections: what the writer remembers of them
  // is dropped when it ends, whatever the outcome (nothing reads it
  // meanwhile: the writer runs the repair). A check leaves it alone.
  absl::Cleanup forget = [this, repair] {
    if (repair) projection_cache_.Clear();
  };
  rocksdb::Env* env = db_->GetEnv();
  const std::string path = ScratchPath();
  RETURN_IF_ERROR(RemoveScratch(env, path));
  const rocksdb::Options options = ScratchOptions(env);
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(options, path, ScratchFamilies(options),
                                        &handles, &db);
  if (!s.ok()) return RocksError(s, "open the scratch database of a rebuild");
  std::unique_ptr<rocksdb::DB> scratch(db);
  // Without RocksDB's default family: indexed like kProjectionFamilies.
  const std::vector<rocksdb::ColumnFamilyHandle*> families(handles.begin() + 1,
                                                           handles.end());
  RebuildReport report;
  absl::Status done = ProjectInto(read, head, scratch.get(), families, &report);
  if (done.ok()) {
    done = MergeProjections(read, scratch.get(), families, repair, &report);
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    scratch->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  scratch.reset();
  absl::Status removed = RemoveScratch(env, path);
  if (!done.ok()) return done;
  RETURN_IF_ERROR(removed);
  return report;
}

absl::Status RocksEventLog::ProjectInto(
    const rocksdb::ReadOptions& read, uint64_t head, rocksdb::DB* scratch,
    const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    RebuildReport* report) {
  constexpr uint64_t kChunk = 1024;  // events per Project call
  RebuildContext fresh(this, read, scratch, families);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
  it->Seek(format::EventKey(1));
  std::vector<v1::RecordedEvent> chunk;
  std::vector<const v1::RecordedEvent*> pointers;
  for (uint64_t first = 1; first <= head; first += kChunk) {
    chunk.clear();
    pointers.clear();
    const uint64_t last = std::min(head, first + kChunk - 1);
    for (uint64_t position = first; position <= last; ++position, it->Next()) {
      if (!it->Valid()) {
        if (!it->status().ok()) return RocksError(it->status(), "read the log");
        return Corrupt(absl::StrCat("position ", position, " is missing"));
      }
      RETURN_IF_ERROR(
          DecodeEvent(it->key(), it->value(), position, &chunk.emplace_back()));
    }
    for (const v1::RecordedEvent& event : chunk) pointers.push_back(&event);
    absl::Status projected = projector_->Project(pointers, &fresh);
    if (!projected.ok()) {
      return absl::InternalError(absl::StrCat(
          "projection failed at positions ", first, "-", last, ": ",
          projected.message()));
    }
    RETURN_IF_ERROR(fresh.Flush());
    report->events = last;
    Progressed();
    if (options_.observer != nullptr) {
      options_.observer->RebuildProgress(last, head);
    }
  }
  return absl::OkStatus();
}

absl::Status RocksEventLog::MergeProjections(
    const rocksdb::ReadOptions& read, rocksdb::DB* scratch,
    const std::vector<rocksdb::ColumnFamilyHandle*>& families, bool repair,
    RebuildReport* report) {
  constexpr size_t kBatchBytes = 8 << 20;
  constexpr uint64_t kStepsPerProgress = 4096;  // keys between Progressed()
  uint64_t steps = 0;
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  rocksdb::WriteBatch batch;
  auto flush = [&]() -> absl::Status {
    rocksdb::Status s = db_->Write(write, &batch);
    batch.Clear();
    return s.ok() ? absl::OkStatus() : RocksError(s, "write projections");
  };
  rocksdb::Status s;
  if (repair) {
    // First mark the projections incomplete: a crash from here on leaves a
    // log that rebuilds them again when it opens.
    s = batch.Delete(Cf(ColumnFamily::kMeta),
                     ToSlice(format::kMetaProjectionVersion));
    // And drop what readers derived from the projections being replaced
    // (its keys start with a letter).
    if (s.ok()) s = batch.DeleteRange(Cf(ColumnFamily::kCaches), "", "\xff");
    if (!s.ok()) return RocksError(s, "build the write batch");
    RETURN_IF_ERROR(flush());
  }
  for (size_t f = 0; f < std::size(kProjectionFamilies); ++f) {
    const ProjectionFamily family = kProjectionFamilies[f];
    rocksdb::ColumnFamilyHandle* cf = ProjectionCf(family);
    // Both iterators are views as of their creation: the repair's writes
    // to the stored family do not show in `stored`.
    std::unique_ptr<rocksdb::Iterator> want(
        scratch->NewIterator(rocksdb::ReadOptions(), families[f]));
    std::unique_ptr<rocksdb::Iterator> stored(db_->NewIterator(read, cf));
    want->SeekToFirst();
    stored->SeekToFirst();
    auto wanted = [&] { return want->Valid(); };
    auto note = [&](absl::string_view key, absl::string_view what) {
      if (report->first_difference.empty()) {
        report->first_difference = absl::StrCat(
            FamilyName(family), " \"", absl::CHexEscape(key), "\" (", what, ")");
      }
    };
    while (stored->Valid() || wanted()) {
      const absl::string_view want_key =
          wanted() ? ToView(want->key()) : absl::string_view();
      const int order = !stored->Valid() ? 1
                        : !wanted()      ? -1
                                         : ToView(stored->key()).compare(want_key);
      if (order < 0) {
        ++report->unexpected;
        note(ToView(stored->key()), "stored but not recomputed");
        if (repair) s = batch.Delete(cf, stored->key());
        stored->Next();
      } else {
        ++report->keys;
        if (order > 0) {
          ++report->missing;
          note(want_key, "recomputed but not stored");
          if (repair) s = batch.Put(cf, ToSlice(want_key), want->value());
        } else {
          if (stored->value() != want->value()) {
            ++report->different;
            note(want_key, "stored with another value");
            if (repair) s = batch.Put(cf, ToSlice(want_key), want->value());
          }
          stored->Next();
        }
        want->Next();
      }
      if (!s.ok()) return RocksError(s, "build the write batch");
      if (batch.GetDataSize() >= kBatchBytes) RETURN_IF_ERROR(flush());
      if (++steps % kStepsPerProgress == 0) Progressed();
    }
    if (!stored->status().ok()) {
      return RocksError(stored->status(), "read the stored projections");
    }
    if (!want->status().ok()) {
      return RocksError(want->status(), "read the rebuilt projections");
    }
  }
  if (!repair) return absl::OkStatus();
  s = batch.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaProjectionVersion),
                projector_->Version());
  if (!s.ok()) return RocksError(s, "build the write batch");
  write.sync = true;
  RETURN_IF_ERROR(flush());
  report->repaired = !report->matched();
  return absl::OkStatus();
}

absl::Status RocksEventLog::CheckProjections() {
  std::string version;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), Cf(ColumnFamily::kMeta),
               ToSlice(format::kMetaProjectionVersion), &version);
  if (!s.ok() && !s.IsNotFound()) {
    return RocksError(s, "read the projection version");
  }
  const bool stored = s.ok();
  // A rebuild cut short by a crash may have left its scratch database.
  RETURN_IF_ERROR(RemoveScratch(db_->GetEnv(), ScratchPath()));
  rocksdb::WriteOptions write;
  write.sync = true;
  if (projector_ == nullptr) {
    if (!stored) return absl::OkStatus();
    s = db_->Delete(write, Cf(ColumnFamily::kMeta),
                    ToSlice(format::kMetaProjectionVersion));
    return s.ok() ? absl::OkStatus()
                  : RocksError(s, "clear the projection version");
  }
  if (stored && version == projector_->Version()) return absl::OkStatus();
  if (committed_.position == 0) {
    // A new log: nothing to project, nothing worth reporting.
    s = db_->Put(write, Cf(ColumnFamily::kMeta),
                 ToSlice(format::kMetaProjectionVersion), projector_->Version());
    return s.ok() ? absl::OkStatus()
                  : RocksError(s, "write the projection version");
  }
  absl::MutexLock lock(&rebuild_mu_);
  ASSIGN_OR_RETURN(rebuilt_on_open_,
                   DoRebuild(rocksdb::ReadOptions(), committed_.position,
                             /*repair=*/true));
  return absl::OkStatus();
}

}  // namespace annals::storage
