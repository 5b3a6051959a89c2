// The RocksDB options of the event log's database (EventLogRocksOptions,
// declared in storage/rocks_event_log.h): DB options, one block cache and
// one memtable budget for all column families, and per column family of
// storage/format.h its memtable insert hint, table options and filters.
// Open (rocks_event_log.cc) opens the database with them; the scratch
// database of a projection rebuild (rocks_rebuild.cc) shares the table
// options (PartitionIndexAndFilters, rocks_options.h).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "rocksdb/cache.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/rocks_event_log.h"
#include "storage/rocks_options.h"

namespace annals::storage {

void PartitionIndexAndFilters(rocksdb::BlockBasedTableOptions* table) {
  table->cache_index_and_filter_blocks = true;
  table->cache_index_and_filter_blocks_with_high_priority = true;
  table->pin_l0_filter_and_index_blocks_in_cache = true;
  table->pin_top_level_index_and_filter = true;
  table->index_type =
      rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table->partition_filters = true;
  table->metadata_block_size = 4096;
}

namespace {

using format::ColumnFamily;

// Deleting the tables a compaction replaced (EventLogRocksOptions): at most
// this fast, this much at a time. A compaction of the 1M-event log's
// dyad_timeline replaces ~480 MB at once; up to the log's own size may
// wait as trash (RocksDB's default ratio, 0.25, would delete the rest of
// such a compaction's tables whole).
constexpr int64_t kDeleteBytesPerSecond = 64 << 20;
constexpr uint64_t kDeleteChunkBytes = 4 << 20;
constexpr double kMaxTrashRatio = 1.0;

// Memtable insert hints. Most keys are appended in order within a prefix:
// events and Merkle nodes by position, a stream's versions, a subject's
// timeline (live events mostly arrive in date order) and a dyad's history.
// RocksDB keeps the last insert position per prefix and starts the next
// insert with that prefix there, instead of descending the skip list from
// the top (profiled: the descent was a third of the writer's CPU).
class HintPrefix final : public rocksdb::SliceTransform {
 public:
  enum class Shape {
    kFixed,     // the first `n` bytes (n may be 0: one hint for all keys)
    kThroughNul // up to the first 0x00 and `n` bytes after it
  };
  HintPrefix(const char* name, Shape shape, size_t n)
      : name_(name), shape_(shape), n_(n) {}

  const char* Name() const override { return name_; }
  bool InDomain(const rocksdb::Slice& key) const override {
    return PrefixSize(key) != 0 || (shape_ == Shape::kFixed && n_ == 0);
  }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), PrefixSize(key));
  }

 private:
  // 0 when the key has no such prefix.
  size_t PrefixSize(const rocksdb::Slice& key) const {
    if (shape_ == Shape::kFixed) return key.size() >= n_ ? n_ : 0;
    const void* nul = memchr(key.data(), 0, key.size());
    if (nul == nullptr) return 0;
    const size_t end =
        static_cast<const char*>(nul) - key.data() + 1 + n_;
    return end <= key.size() ? end : 0;
  }

  const char* const name_;
  const Shape shape_;
  const size_t n_;
};

std::shared_ptr<const rocksdb::SliceTransform> InsertHintFor(ColumnFamily cf) {
  using Shape = HintPrefix::Shape;
  switch (cf) {
    case ColumnFamily::kEvents:
      return std::make_shared<HintPrefix>("annals.events", Shape::kFixed, 0);
    case ColumnFamily::kMerkle:  // the level byte
      return std::make_shared<HintPrefix>("annals.merkle", Shape::kFixed, 1);
    case ColumnFamily::kStreams:  // stream || 0x00
      return std::make_shared<HintPrefix>("annals.streams", Shape::kThroughNul,
                                          0);
    case ColumnFamily::kDyadTimeline:  // subject || 0x00 || tag
      return std::make_shared<HintPrefix>("annals.timeline",
                                          Shape::kThroughNul, 1);
    default:  // ids, states, ordering keys: no order to exploit
      return nullptr;
  }
}

// Tuning per column family. All share one block cache, and one memtable
// budget (EventLogRocksOptions).
rocksdb::ColumnFamilyOptions ColumnFamilyOptionsFor(
    ColumnFamily cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  options.level_compaction_dynamic_level_bytes = true;
  options.memtable_insert_with_hint_prefix_extractor = InsertHintFor(cf);
  // Small memtables: whenever the total passes the shared write buffer
  // budget, RocksDB flushes the family whose memtable is the oldest (not
  // the largest), so a family written little (event_ids, streams, merkle,
  // meta) is flushed at 1-6 MB, a level-0 table each time, long before it
  // fills these.
  options.write_buffer_size =
      cf == ColumnFamily::kEvents ? (32 << 20) : (16 << 20);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  PartitionIndexAndFilters(&table);
  if (cf == ColumnFamily::kEvents) {
    // Except events: catch-up reads it front to back, and a partitioned
    // index costs that scan a third more CPU (1M-event log: 213-251k ->
    // 346-391k events/s with a plain index); its whole index is a few MiB,
    // kept in the cache's high-priority pool.
    table.index_type =
        rocksdb::BlockBasedTableOptions::IndexType::kBinarySearch;
  }
  // event_ids: every append looks up each of its ids, and nearly all are
  // new; a bloom filter answers most of those misses without reading a
  // block. streams is read only by seeks (a stream's last version, version
  // ranges), which a whole-key filter cannot serve; the writer caches stream
  // versions instead. events is appended in key order and read by position
  // ranges: no filter either.
  if (cf == ColumnFamily::kEventIds) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // The memtable too: the lookup of a new id then skips the skiplist
    // search as well.
    options.memtable_prefix_bloom_size_ratio = 0.05;
    options.memtable_whole_key_filtering = true;
  }
  // dyad_timeline uncompressed: its ~10 keys per event land in every
  // subject's range, so on a large log each level-0 compaction rewrites
  // the whole family, and snappy was over half of that work. 1M-event
  // log, 64 single-event AppendSession clients: annalsd CPU per event
  // -25%, for the family ~2.5 times as large on disk (data directory
  // 0.8 -> 1.15 GB).
  //
  // For the same reason it merges level 0 in larger runs: every level-0
  // table spans the whole family, so each merge into the base level
  // rewrites all of that level, however few tables it takes. 16 tables at
  // a time (8-11 MB each) rewrite it a quarter as often as RocksDB's
  // default 4, which it goes back to while writes pause
  // (rocks_idle_merge.h), since reads seek in every level-0 table (on a
  // log left with 14: 50-result timelines p99 0.8-1.6 -> 1.0-2.4 ms, as of
  // a date 3.9-4.4 -> 6.7-7.4 ms). Writes slow down and stop at RocksDB's
  // default distance past it. 1M-event log, 3 alternating rounds of 40 s:
  // 64 single-event AppendSession clients 10.7-14.2k -> 14.4-15.7k
  // events/s, annalsd CPU per event 99-142 -> 86-95 us; 8 x 100 36-47k ->
  // 45-50k events/s.
  //
  // caches merges level 0 sixteen tables at a time too, and keeps doing
  // so while appends pause: the partial keeper writes it then, refolding
  // every year partial and the through partials after it that the appends
  // made stale (~30 KB per appended event), into keys spread over every
  // dyad, so that each merge of four ~4.5 MB tables rewrote a 64-190 MB
  // base (1.1-1.6 s of CPU), one every ~3 s, into the next appends. 1M-event
  // log, as-of queries then a fan-out appending ~4,000 events, idle, then
  // 64 single-event AppendSession clients for 3 s, 3 alternating rounds:
  // 9.7-10.8k -> 12.2-12.7k events/s, annalsd CPU per event 139-159 ->
  // 116-120 us; the family's merges in such a run 18 -> 8; a state as of a
  // date after it, p99 5.7 -> 5.5 ms.
  //
  // event_ids (random ids), streams (every stream's next versions) and
  // merkle (every level's newest subtrees) are the same case, small: the
  // shared budget flushes each at 1-6 MB, and every fourth table rewrote
  // the whole family (1M-event log: 11-24 MB, 0.5-1.1 s of CPU each),
  // ~15 us of compaction per appended event at 64 single-event
  // AppendSession clients. They merge like dyad_timeline: sixteen at a
  // time while appends come, four once they pause. 1M-event log, 2
  // alternating rounds of five 6 s runs, each after 8 s idle: annalsd CPU
  // per event 73-105 -> 65-97 us (medians 84 / 94 -> 69 / 78), compaction
  // within the runs 8-43 -> 0-20 us per event.
  if (cf == ColumnFamily::kDyadTimeline) {
    options.compression = rocksdb::kNoCompression;
  }
  // events moves each level-0 table down as soon as it is flushed. Its
  // keys are positions, appended in order, so a flushed table overlaps no
  // other and the move rewrites nothing (RocksDB's trivial move: the
  // manifest changes, not the file). Left in level 0, each table is a
  // child of every read's merging iterator, and every catch-up page seeks
  // into each of them and reads a readahead's worth from its first block,
  // whatever range the page reads.
  //
  // And events in LZ4 rather than RocksDB's default snappy: catch-up,
  // exports and pages of events decompress every block they read, and LZ4
  // does it in about half the time for the same size (the 1M-event log's
  // events: 313 bytes each in LZ4, 317 in snappy). Catch-up of that log,
  // 3 alternating rounds of three: annalsd 1.60-2.24 -> 1.32-1.82 us per
  // event.
  // Tables written before keep their snappy blocks (each block names its
  // compression) until a compaction rewrites them.
  if (cf == ColumnFamily::kEvents) {
    options.level0_file_num_compaction_trigger = 1;
    options.compression = rocksdb::kLZ4Compression;
  }
  if (cf == ColumnFamily::kCaches ||
      std::find(kMergedAtRest.begin(), kMergedAtRest.end(), cf) !=
          kMergedAtRest.end()) {
    const int default_trigger = options.level0_file_num_compaction_trigger;
    options.level0_file_num_compaction_trigger = kWideLevel0Tables;
    options.level0_slowdown_writes_trigger +=
        kWideLevel0Tables - default_trigger;
    options.level0_stop_writes_trigger += kWideLevel0Tables - default_trigger;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

RocksOptions EventLogRocksOptions(const LogOptions& options,
                                  rocksdb::Env* env) {
  RocksOptions rocks;
  if (env != nullptr) rocks.db.env = env;
  rocks.db.create_if_missing = options.create_if_missing;
  rocks.db.create_missing_column_families = true;
  // Every acknowledged commit is in the WAL before it is acknowledged.
  rocks.db.manual_wal_flush = false;
  // Replay the whole WAL or refuse to open: a crash can tear only the last
  // record (never acknowledged: it was not synced), and that one is
  // dropped; a damaged record before it is Corruption. The default,
  // kPointInTimeRecovery, stopped at the first damaged record and opened
  // without everything after it, acknowledged events included.
  rocks.db.wal_recovery_mode =
      rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  rocks.db.max_background_jobs = 2;
  // Background files go to disk in small steps, so that the WAL's
  // fdatasync, which every durable commit waits for, never queues behind a
  // whole table: flushes and compactions write a table out 1 MiB at a time
  // (each step waiting for the one before), and the tables a compaction
  // replaces are deleted at most kDeleteBytesPerSecond, kDeleteChunkBytes
  // truncated at a time, since on a filesystem mounted with `discard` a
  // whole table's deletion is one synchronous discard of its blocks.
  // 1M-event log, one subscriber, 1,000 single-event appends/s: the
  // appends stood still for 50-130 ms whenever a compaction wrote or
  // deleted a table, and a table file's fsync and its deletion each
  // stalled another file's fdatasync on this machine's disk for 20-85 ms.
  rocks.db.bytes_per_sync = 1 << 20;
  rocks.db.strict_bytes_per_sync = true;
  rocks.db.sst_file_manager.reset(rocksdb::NewSstFileManager(
      rocks.db.env, /*info_log=*/nullptr, /*trash_dir=*/"",
      kDeleteBytesPerSecond, /*delete_existing_trash=*/true,
      /*status=*/nullptr, kMaxTrashRatio, kDeleteChunkBytes));
  // Counters only (block cache hits and misses, stall time) for
  // EventLog::Figures: no timers or histograms on the hot paths.
  rocks.db.statistics = rocksdb::CreateDBStatistics();
  rocks.db.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options.block_cache_bytes);
  // All memtables together stay under one budget (the oldest is flushed
  // when they pass it), so memory does not grow with the number of column
  // families or the write rate.
  rocks.db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      options.write_buffer_bytes);
  for (int i = 0; i < format::kNumColumnFamilies; ++i) {
    rocks.column_families.emplace_back(
        std::string(format::kColumnFamilyNames[i]),
        ColumnFamilyOptionsFor(static_cast<ColumnFamily>(i), cache));
  }
  return rocks;
}

}  // namespace annals::storage
