// How the RocksDB event log tunes RocksDB (rocks_options.cc). The options
// the log's database opens with, EventLogRocksOptions, are declared in
// storage/rocks_event_log.h for tools that must write as the log does; this
// header holds what the log's own files share besides. Private to
// storage/rocks_*.cc.
#ifndef ANNALS_STORAGE_ROCKS_OPTIONS_H_
#define ANNALS_STORAGE_ROCKS_OPTIONS_H_

#include <array>

#include "rocksdb/table.h"
#include "storage/format.h"

namespace annals::storage {

// Index and filter blocks live in the block cache too, so the memory of a
// large log is bounded by the cache rather than growing with its tables.
// They are partitioned (4 KiB partitions under a small top-level index,
// which stays pinned): a lookup loads the partition it needs, not the whole
// index of a 64 MiB table (hundreds of KiB, decompressed again after every
// eviction; that was most of a timeline query's time on a million-event
// log). L0's are pinned: they are read on every lookup.
// Every column family of the log starts from this (events then keeps a
// plain index), and so does the scratch database of a projection rebuild
// (rocks_rebuild.cc).
void PartitionIndexAndFilters(rocksdb::BlockBasedTableOptions* table);

// Column families whose every level-0 table spans nearly the whole family
// (their keys land everywhere), so that each merge of level 0 into the
// base level rewrites all of that level however few tables it takes, merge
// kWideLevel0Tables tables at a time while appends come (rocks_options.cc):
// caches always, those of kMergedAtRest until appends pause, when they go
// back to RocksDB's default, kWideLevel0TablesAtRest (rocks_idle_merge.h).
inline constexpr int kWideLevel0Tables = 16;
inline constexpr int kWideLevel0TablesAtRest = 4;
inline constexpr std::array kMergedAtRest = {
    format::ColumnFamily::kDyadTimeline, format::ColumnFamily::kEventIds,
    format::ColumnFamily::kStreams, format::ColumnFamily::kMerkle};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_OPTIONS_H_
