// EventLog::Figures for the RocksDB log: RocksDB's own properties and
// statistics tickers, read on demand.
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"
#include "storage/format.h"
#include "storage/rocks_event_log_impl.h"

namespace annals::storage {

StorageFigures RocksEventLog::Figures() const {
  StorageFigures figures;
  for (int i = 0; i < format::kNumColumnFamilies; ++i) {
    rocksdb::ColumnFamilyHandle* cf = handles_[i];
    StorageFigures::Family family;
    family.name = std::string(format::kColumnFamilyNames[i]);
    db_->GetIntProperty(cf, rocksdb::DB::Properties::kLiveSstFilesSize,
                        &family.live_sst_bytes);
    db_->GetIntProperty(cf, rocksdb::DB::Properties::kSizeAllMemTables,
                        &family.memtable_bytes);
    db_->GetIntProperty(cf,
                        rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                        &family.pending_compaction_bytes);
    // A string property: RocksDB has no integer form of it.
    std::string level0;
    if (db_->GetProperty(
            cf, absl::StrCat(rocksdb::DB::Properties::kNumFilesAtLevelPrefix, 0),
            &level0)) {
      (void)absl::SimpleAtoi(level0, &family.level0_tables);
    }
    figures.families.push_back(std::move(family));
  }
  // One block cache is shared by every column family.
  db_->GetIntProperty(handles_[0], rocksdb::DB::Properties::kBlockCacheUsage,
                      &figures.block_cache_usage_bytes);
  db_->GetIntProperty(handles_[0], rocksdb::DB::Properties::kBlockCacheCapacity,
                      &figures.block_cache_capacity_bytes);
  if (const auto& stats = db_->GetDBOptions().statistics) {
    figures.block_cache_hits = stats->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    figures.block_cache_misses =
        stats->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    figures.write_stall_micros = stats->getTickerCount(rocksdb::STALL_MICROS);
  }
  uint64_t oldest = 0;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kOldestSnapshotSequence,
                          &oldest) &&
      oldest > 0) {
    const uint64_t latest = db_->GetLatestSequenceNumber();
    figures.writes_after_oldest_snapshot = latest > oldest ? latest - oldest : 0;
  }
  return figures;
}

}  // namespace annals::storage
