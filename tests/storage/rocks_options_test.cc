// The RocksDB options of the event log (storage/rocks_options.cc): the
// tables a compaction replaces are deleted in steps, through the log's own
// Env, and none is left behind; the families whose level-0 tables span
// nearly all of them merge level 0 in larger runs; events keeps none in
// level 0, and is LZ4.

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table_properties.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/rocks_event_log.h"

namespace annals::storage {
namespace {

std::vector<std::string> TablesIn(rocksdb::Env* env, const std::string& dir) {
  std::vector<std::string> children;
  EXPECT_TRUE(env->GetChildren(dir, &children).ok());
  std::vector<std::string> tables;
  for (const std::string& child : children) {
    // A table, or one waiting for deletion (its name + ".trash").
    if (absl::EndsWith(child, ".sst") || absl::EndsWith(child, ".sst.trash")) {
      tables.push_back(child);
    }
  }
  return tables;
}

// A database opened in memory with the event log's options (or changes
// of them), for what RocksDB then does with its tables.
class RocksOptionsInMemoryTest : public ::testing::Test {
 protected:
  static constexpr char kPath[] = "/rocks_options_test";

  RocksOptionsInMemoryTest()
      : memory_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {}

  // The handles go before the database, whatever failed.
  void TearDown() override {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
    }
    handles_.clear();
  }

  RocksOptions Options() const {
    return EventLogRocksOptions(LogOptions(), memory_.get());
  }
  void Open(const RocksOptions& rocks) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocks.db, kPath, rocks.column_families,
                                  &handles_, &raw)
                    .ok());
    db_.reset(raw);
  }
  rocksdb::ColumnFamilyHandle* Events() const {
    return handles_[static_cast<int>(format::ColumnFamily::kEvents)];
  }

  std::unique_ptr<rocksdb::Env> memory_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

TEST(EventLogRocksOptionsTest, BackgroundFilesGoToDiskInSteps) {
  RocksOptions rocks = EventLogRocksOptions(LogOptions(), nullptr);
  EXPECT_EQ(rocks.db.bytes_per_sync, 1u << 20);
  EXPECT_TRUE(rocks.db.strict_bytes_per_sync);
  ASSERT_NE(rocks.db.sst_file_manager, nullptr);
  EXPECT_GT(rocks.db.sst_file_manager->GetDeleteRateBytesPerSecond(), 0);
}

// The level-0 tables of dyad_timeline, caches, event_ids (random ids),
// streams (many streams) and merkle (every level's newest subtrees) each
// span nearly the whole family: they merge four times as many at a time
// as the other families, and slow writes down no nearer to that than
// RocksDB's defaults do.
constexpr format::ColumnFamily kWide[] = {
    format::ColumnFamily::kDyadTimeline, format::ColumnFamily::kCaches,
    format::ColumnFamily::kEventIds, format::ColumnFamily::kStreams,
    format::ColumnFamily::kMerkle};

TEST(EventLogRocksOptionsTest, WideFamiliesMergeLevelZeroInLargerRuns) {
  RocksOptions rocks = EventLogRocksOptions(LogOptions(), nullptr);
  const rocksdb::ColumnFamilyOptions defaults;
  for (format::ColumnFamily family : kWide) {
    const rocksdb::ColumnFamilyOptions& options =
        rocks.column_families[static_cast<int>(family)].options;
    EXPECT_EQ(options.level0_file_num_compaction_trigger,
              4 * defaults.level0_file_num_compaction_trigger);
    EXPECT_EQ(options.level0_slowdown_writes_trigger -
                  options.level0_file_num_compaction_trigger,
              defaults.level0_slowdown_writes_trigger -
                  defaults.level0_file_num_compaction_trigger);
    EXPECT_EQ(options.level0_stop_writes_trigger -
                  options.level0_file_num_compaction_trigger,
              defaults.level0_stop_writes_trigger -
                  defaults.level0_file_num_compaction_trigger);
  }
  for (int cf = 0; cf < format::kNumColumnFamilies; ++cf) {
    if (std::find(std::begin(kWide), std::end(kWide),
                  static_cast<format::ColumnFamily>(cf)) != std::end(kWide) ||
        cf == static_cast<int>(format::ColumnFamily::kEvents)) {
      continue;
    }
    EXPECT_EQ(rocks.column_families[cf].options.level0_file_num_compaction_trigger,
              defaults.level0_file_num_compaction_trigger)
        << rocks.column_families[cf].name;
  }
}

// events' tables leave level 0 as soon as they are flushed: positions are
// appended in order, so each moves down whole (tested below), and a scan
// of a page of positions does not seek in every table of level 0.
TEST(EventLogRocksOptionsTest, EventsLeaveLevelZeroAtEachFlush) {
  RocksOptions rocks = EventLogRocksOptions(LogOptions(), nullptr);
  EXPECT_EQ(rocks.column_families[static_cast<int>(format::ColumnFamily::kEvents)]
                .options.level0_file_num_compaction_trigger,
            1);
}

TEST_F(RocksOptionsInMemoryTest, FlushedEventsMoveDownWithoutARewrite) {
  const RocksOptions rocks = Options();
  Open(rocks);
  // A snapshot older than every table keeps RocksDB from rewriting tables
  // of the last level to clear their sequence numbers, which it would do
  // to these (the only level of so small a family) after they move.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  absl::Cleanup release = [&] { db_->ReleaseSnapshot(snapshot); };
  auto level0_tables = [&] {
    std::string tables;
    EXPECT_TRUE(
        db_->GetProperty(Events(), "rocksdb.num-files-at-level0", &tables));
    return tables;
  };
  uint64_t position = 0;
  for (int table = 0; table < 3; ++table) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Events(),
                           format::EventKey(++position), std::string(1000, 'e'))
                      .ok());
    }
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions(), Events()).ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (level0_tables() != "0" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(level0_tables(), "0") << "after table " << table;
  }
  // Moved, not merged: three tables below level 0, none of them written by
  // a compaction.
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  int moved = 0;
  for (const rocksdb::LiveFileMetaData& file : files) {
    if (file.column_family_name == "events") {
      EXPECT_GT(file.level, 0) << file.name;
      ++moved;
    }
  }
  EXPECT_EQ(moved, 3);
  EXPECT_EQ(rocks.db.statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES),
            0u);
}

// events' tables are LZ4 (which this RocksDB supports: the open checks).
TEST_F(RocksOptionsInMemoryTest, EventsTablesAreLz4) {
  Open(Options());
  for (uint64_t position = 1; position <= 100; ++position) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Events(),
                         format::EventKey(position), std::string(1000, 'e'))
                    .ok());
  }
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions(), Events()).ok());
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(db_->GetPropertiesOfAllTables(Events(), &tables).ok());
  ASSERT_EQ(tables.size(), 1u);
  for (const auto& [name, properties] : tables) {
    EXPECT_EQ(properties->compression_name, "LZ4") << name;
  }
}

// The deletions run through the Env the log was opened with: a database in
// memory, whose files the default Env cannot see, ends with only the
// compaction's output.
TEST_F(RocksOptionsInMemoryTest, ReplacedTablesAreDeletedThroughTheLogsEnv) {
  RocksOptions rocks = Options();
  ASSERT_EQ(rocks.db.env, memory_.get());
  // Only the compaction below: none of RocksDB's own meanwhile.
  for (rocksdb::ColumnFamilyDescriptor& family : rocks.column_families) {
    family.options.disable_auto_compactions = true;
  }
  Open(rocks);
  for (int table = 0; table < 3; ++table) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Events(),
                           absl::StrCat("key-", i),
                           std::string(1000, static_cast<char>('a' + table)))
                      .ok());
    }
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions(), Events()).ok());
  }
  ASSERT_EQ(TablesIn(memory_.get(), kPath).size(), 3u);

  ASSERT_TRUE(db_->CompactRange(rocksdb::CompactRangeOptions(), Events(),
                                nullptr, nullptr)
                  .ok());
  // Deleted in the background, at the paced rate (these are small).
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (TablesIn(memory_.get(), kPath).size() > 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(TablesIn(memory_.get(), kPath).size(), 1u);
}

}  // namespace
}  // namespace annals::storage
