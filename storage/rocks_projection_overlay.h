// What the projector (storage/projector.h) reads and writes through while
// the RocksDB event log computes projections. Its writes are staged in key
// order (StagedProjections), read back from there laid over what the
// database holds, and go into a rocksdb::WriteBatch at the end, in key
// order, one entry per key.
// Both users are an OverlayContext: the writer's view of a commit group
// (RocksEventLog::GroupContext, rocks_commit_group.cc), which also reads
// through the writer's ProjectionCache, and a rebuild's view of its scratch
// database (RocksEventLog::RebuildContext, rocks_rebuild.cc). Used on the
// writer thread only. Private to storage/rocks_*.cc.
#ifndef ANNALS_STORAGE_ROCKS_PROJECTION_OVERLAY_H_
#define ANNALS_STORAGE_ROCKS_PROJECTION_OVERLAY_H_

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/write_batch.h"
#include "storage/projector.h"

namespace annals::storage {

// The projection entries a commit group has put or deleted so far, by
// family: what the projector must read back before the group is written.
// A deletion is kept as nullopt so that it hides the committed entry.
class StagedProjections {
 public:
  void Put(ProjectionFamily family, absl::string_view key,
           absl::string_view value) {
    Entries(family).insert_or_assign(std::string(key), std::string(value));
  }
  void Delete(ProjectionFamily family, absl::string_view key) {
    Entries(family).insert_or_assign(std::string(key), std::nullopt);
  }
  // Null when the group has not touched `key`; else what it staged
  // (nullopt: deleted).
  const std::optional<std::string>* Find(ProjectionFamily family,
                                         absl::string_view key) const {
    const auto& entries = Entries(family);
    auto it = entries.find(key);
    return it == entries.end() ? nullptr : &it->second;
  }

  // Puts (or deletes) each staged entry into `batch`, family by family in
  // key order; `handles` are the column families of kDyadTimeline and
  // kRelationships. Key order makes RocksDB's memtable inserts cheap: each
  // skip list search starts where the previous one ended (profiled at 64
  // single-event sessions: the searches of projection entries staged in
  // projection order were ~30% of annalsd's CPU).
  rocksdb::Status WriteTo(
      const std::array<rocksdb::ColumnFamilyHandle*, 2>& handles,
      rocksdb::WriteBatch* batch) const;

  // Hands each entry staged in `family` over to `take(key, value)` (value
  // nullopt: deleted), moving the values out; the family is left empty.
  template <typename Take>
  void MoveOut(ProjectionFamily family, Take take) {
    Map entries = std::move(Entries(family));
    Entries(family).clear();
    for (auto& [key, value] : entries) take(key, std::move(value));
  }

  // ProjectionContext::ScanUntil over the staged entries of `family` laid
  // over `base` (an iterator of the committed column family).
  absl::Status ScanUntil(
      ProjectionFamily family, rocksdb::Iterator* base,
      absl::string_view prefix, ProjectionContext::Order order,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const;

 private:
  using Map = absl::btree_map<std::string, std::optional<std::string>,
                              std::less<>>;
  Map& Entries(ProjectionFamily family) {
    return entries_[family == ProjectionFamily::kDyadTimeline ? 0 : 1];
  }
  const Map& Entries(ProjectionFamily family) const {
    return entries_[family == ProjectionFamily::kDyadTimeline ? 0 : 1];
  }

  Map entries_[2];
};

// Committed entries of the relationships family (relationship records,
// their year and decade entries, ordering keys) that the writer has read or
// written lately. Every commit group loads the state of each dyad it
// touches, nearly always one that a recent group wrote; reading it back
// from RocksDB (memtable and table lookups) was a sixth of the writer's
// time at 64 session clients. The writer is the only one who writes
// projections, so what it wrote last is what is committed: it remembers
// what it reads, and a group's entries once the group is written. Writer
// thread only; at most kMaxCachedProjectionBytes of keys and values, then
// dropped and refilled.
class ProjectionCache {
 public:
  // Null when `key` is not cached; else its committed value (nullopt: the
  // key does not exist).
  const std::optional<std::string>* Find(absl::string_view key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Sets the committed value of `key` (nullopt: the key does not exist).
  // When the cache would pass kMaxCachedProjectionBytes it is dropped
  // first.
  void Remember(absl::string_view key, std::optional<std::string> value);

  void Clear() {
    entries_.clear();
    bytes_ = 0;
  }

 private:
  static size_t SizeOf(absl::string_view key,
                       const std::optional<std::string>& value) {
    return key.size() + (value.has_value() ? value->size() : 0);
  }

  absl::flat_hash_map<std::string, std::optional<std::string>> entries_;
  size_t bytes_ = 0;
};

// A ProjectionContext that stages its writes in `staged` and reads them
// back from there, over the entries `db` holds; WriteStaged puts them into
// `batch`. The commit group's and the
// rebuild's contexts are this, with their own way to find events.
class OverlayContext : public ProjectionContext {
 public:
  // `families`: the handles of ProjectionFamily::kDyadTimeline and
  // kRelationships in `db`.
  // `cache` (may be null): committed relationships entries that `db`
  // holds, read before `db` and told what this context reads from it.
  OverlayContext(rocksdb::DB* db,
                 std::array<rocksdb::ColumnFamilyHandle*, 2> families,
                 rocksdb::WriteBatch* batch, StagedProjections* staged,
                 ProjectionCache* cache = nullptr)
      : db_(db),
        families_(families),
        batch_(batch),
        staged_(staged),
        cache_(cache) {}

  absl::StatusOr<std::string> Get(ProjectionFamily family,
                                  absl::string_view key) override;
  absl::Status Put(ProjectionFamily family, absl::string_view key,
                   absl::string_view value) override;
  absl::Status Delete(ProjectionFamily family, absl::string_view key) override;
  absl::Status Scan(ProjectionFamily family, absl::string_view prefix,
                    const std::function<void(absl::string_view,
                                             absl::string_view)>& visit)
      override;
  absl::Status ScanUntil(
      ProjectionFamily family, absl::string_view prefix, Order order,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override;

  // Puts what was staged into the batch (StagedProjections::WriteTo). Once
  // per batch, before it is written.
  absl::Status WriteStaged();

 private:
  rocksdb::ColumnFamilyHandle* Family(ProjectionFamily family) const {
    return families_[family == ProjectionFamily::kDyadTimeline ? 0 : 1];
  }

  rocksdb::DB* const db_;
  const std::array<rocksdb::ColumnFamilyHandle*, 2> families_;
  rocksdb::WriteBatch* const batch_;
  StagedProjections* const staged_;
  ProjectionCache* const cache_;
};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_PROJECTION_OVERLAY_H_
