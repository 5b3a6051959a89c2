// How the RocksDB event log tunes RocksDB (rocks_options.cc). The options
// the log's database opens with, EventLogRocksOptions, are declared in
// storage/rocks_event_log.h for tools that must write as the log does; this
// header holds what the log's own files share besides. Private to
// storage/rocks_*.cc.
#ifndef ANNALS_STORAGE_ROCKS_OPTIONS_H_
#define ANNALS_STORAGE_ROCKS_OPTIONS_H_

#include "rocksdb/table.h"

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

// dyad_timeline's level-0 tables merged at a time: while appends come, and
// once they have paused (rocks_idle_merge.h; RocksDB's default). caches
// merges kTimelineLevel0Tables at a time whether appends come or not.
inline constexpr int kTimelineLevel0Tables = 16;
inline constexpr int kTimelineLevel0TablesIdle = 4;

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_OPTIONS_H_
