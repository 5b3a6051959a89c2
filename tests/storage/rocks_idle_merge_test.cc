// What the log does while writes pause: the level 0 of dyad_timeline,
// event_ids, streams and merkle merged sooner (storage/rocks_idle_merge.h),
// on a real RocksDB opened with the log's options; the read snapshot
// brought up to what was written after it, and the oldest snapshot let
// go (RocksEventLog::RefreshIdleSnapshot).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/metadata.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/rocks_event_log.h"
#include "storage/rocks_idle_merge.h"
#include "storage/rocks_options.h"
#include "tests/storage/test_events.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::ScratchDir;

class IdleLevel0MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksOptions rocks = EventLogRocksOptions(LogOptions(), nullptr);
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocks.db, dir_.Sub("db"),
                                  rocks.column_families, &handles_, &raw)
                    .ok());
    db_.reset(raw);
    timeline_ = handles_[static_cast<int>(format::ColumnFamily::kDyadTimeline)];
  }

  void TearDown() override {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
    }
  }

  // One more level-0 table of dyad_timeline, spanning the same keys as
  // the others (as the log's tables do).
  void AddTable() {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), timeline_,
                           absl::StrCat("subject-", i, "-", tables_), "entry")
                      .ok());
    }
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions(), timeline_).ok());
    ++tables_;
  }

  size_t Level0Tables() {
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(timeline_, &meta);
    return meta.levels[0].files.size();
  }

  int Trigger() {
    return db_->GetOptions(timeline_).level0_file_num_compaction_trigger;
  }

  // Waits up to 20 s for `done`.
  template <typename Done>
  bool Eventually(Done done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  ScratchDir dir_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* timeline_ = nullptr;
  int tables_ = 0;
};

TEST_F(IdleLevel0MergeTest, WritesKeepLevelZeroUntilTheyPauseThenItIsMerged) {
  std::atomic<uint64_t> progress{0};
  IdleLevel0Merge merge(
      db_.get(), {timeline_}, [&progress] { return progress.load(); },
      absl::Seconds(1), kWideLevel0Tables,
      kWideLevel0TablesAtRest);
  // While writes come, more tables than RocksDB's default stay in level 0.
  for (int i = 0; i < 2 * kWideLevel0TablesAtRest; ++i) {
    ++progress;
    AddTable();
  }
  ++progress;
  EXPECT_EQ(Trigger(), kWideLevel0Tables);
  EXPECT_EQ(Level0Tables(), 2u * kWideLevel0TablesAtRest);

  // Once they pause, RocksDB merges them.
  ASSERT_TRUE(Eventually([&] { return Level0Tables() == 0; }));
  EXPECT_EQ(Trigger(), kWideLevel0TablesAtRest);

  // Writes again: the trigger is back within a poll.
  ++progress;
  ASSERT_TRUE(Eventually([&] { return Trigger() == kWideLevel0Tables; }));
}

// Lists every event in dyad_timeline, as the relationship projector does.
class TimelineProjector : public Projector {
 public:
  std::string Version() const override { return "timeline/1"; }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       ProjectionContext* context) override {
    for (const v1::RecordedEvent* event : events) {
      absl::Status put = context->Put(
          ProjectionFamily::kDyadTimeline,
          absl::StrCat(event->stream(), "/", event->position()), "entry");
      if (!put.ok()) return put;
    }
    return absl::OkStatus();
  }
};

// The level-0 tables of each family of kMergedAtRest (those whose level
// 0 appends leave to grow and a pause merges).
std::vector<uint64_t> MergedAtRestLevel0Tables(const EventLog& log) {
  const StorageFigures figures = log.Figures();
  std::vector<uint64_t> tables;
  for (format::ColumnFamily cf : kMergedAtRest) {
    const absl::string_view name = format::ColumnFamilyName(cf);
    const auto family = std::find_if(
        figures.families.begin(), figures.families.end(),
        [name](const StorageFigures::Family& f) { return f.name == name; });
    if (family == figures.families.end()) {
      ADD_FAILURE() << "no " << name << " in the figures";
      continue;
    }
    tables.push_back(family->level0_tables);
  }
  return tables;
}

uint64_t FewestLevel0Tables(const EventLog& log) {
  const std::vector<uint64_t> tables = MergedAtRestLevel0Tables(log);
  return tables.empty() ? 0 : *std::min_element(tables.begin(), tables.end());
}

uint64_t MostLevel0Tables(const EventLog& log) {
  const std::vector<uint64_t> tables = MergedAtRestLevel0Tables(log);
  return tables.empty() ? 0 : *std::max_element(tables.begin(), tables.end());
}

// The log's wiring (LogOptions::idle_merge_after, WriterProgress) and the
// figure operators watch it by.
TEST(IdleLevel0MergeLogTest, ALogAtRestMergesWhatItsAppendsLeftInLevelZero) {
  ScratchDir dir;
  TimelineProjector projector;
  LogOptions options;
  options.sync = false;
  options.projector = &projector;
  options.idle_merge_after = absl::ZeroDuration();
  // Each reopen flushes what the WAL holds: one more level-0 table.
  constexpr int kTables = 2 * kWideLevel0TablesAtRest;
  for (int i = 0; i < kTables; ++i) {
    auto log = OpenRocksEventLog(dir.Sub("log"), options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int e = 0; e < 10; ++e) {
      ASSERT_TRUE((*log)
                      ->Append(testing::MakeBatch(
                          absl::StrCat("stream-", e), ExpectedVersion::Any(),
                          {testing::MakeEvent(absl::StrCat("e", i, "-", e))}))
                      .ok());
    }
  }
  {
    auto log = OpenRocksEventLog(dir.Sub("log"), options);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_GE(FewestLevel0Tables(**log), static_cast<uint64_t>(kTables));
  }
  options.idle_merge_after = absl::Milliseconds(200);
  auto log = OpenRocksEventLog(dir.Sub("log"), options);
  ASSERT_TRUE(log.ok()) << log.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (MostLevel0Tables(**log) > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(MostLevel0Tables(**log), 0u);
}

// A log without sync, and the figure these tests watch.
class IdleSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(LogOptions()); }

  void Open(LogOptions options) {
    log_.reset();
    options.sync = false;
    auto log = OpenRocksEventLog(dir_.Sub("log"), options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void Append(const std::string& id) {
    ASSERT_TRUE(log_->Append(testing::MakeBatch("stream",
                                                ExpectedVersion::Any(),
                                                {testing::MakeEvent(id)}))
                    .ok());
  }

  uint64_t WritesAfterOldestSnapshot() const {
    return log_->Figures().writes_after_oldest_snapshot;
  }

  // Waits (at most 10 s) until nothing is written after the oldest
  // snapshot; the figure then.
  uint64_t WaitForThePause() const {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (WritesAfterOldestSnapshot() > 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return WritesAfterOldestSnapshot();
  }

  ScratchDir dir_;
  std::unique_ptr<EventLog> log_;
};

// The partial keeper writes caches while appends pause, after the last
// commit's snapshot: once the writer has waited a second for work, a fresh
// snapshot of the same head takes its place, so that RocksDB finishes the
// compaction of those writes while the log is idle rather than in the
// first seconds of the next appends.
TEST_F(IdleSnapshotTest, APauseBringsTheSnapshotUpToTheWritesAfterIt) {
  Append("e");
  ASSERT_EQ(WaitForThePause(), 0u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        log_->KeepCache(absl::StrCat("cache-", i), "value", log_->CacheEpoch())
            .ok());
  }
  EXPECT_GT(WritesAfterOldestSnapshot(), 0u);
  EXPECT_EQ(WaitForThePause(), 0u);
  // The head is the same, and appends go on.
  EXPECT_EQ(log_->GetHead().position, 1u);
  Append("f");
  EXPECT_EQ(log_->GetHead().position, 2u);
}

// While appends come, the oldest snapshot stays at the first group's
// (RocksEventLog::anchor_): RocksDB rewrites bottommost tables whenever a
// release moves it past them. A pause lets it go.
TEST_F(IdleSnapshotTest, AppendsHoldTheOldestSnapshotUntilTheyPause) {
  Append("first");
  ASSERT_EQ(WaitForThePause(), 0u);
  constexpr int kGroups = 10;
  for (int i = 0; i < kGroups; ++i) Append(absl::StrCat("e", i));
  EXPECT_GT(WritesAfterOldestSnapshot(), 0u)
      << "each group's snapshot release moved the oldest snapshot";
  EXPECT_EQ(WaitForThePause(), 0u);
  EXPECT_EQ(log_->GetHead().position, static_cast<uint64_t>(kGroups + 1));
}

// Appends that never pause let the oldest snapshot go once it is older
// than snapshot_anchor_max_age, and hold the next group's.
TEST_F(IdleSnapshotTest, AppendsThatNeverPauseMoveTheOldestSnapshotAtMaxAge) {
  LogOptions options;
  options.snapshot_anchor_max_age = absl::Milliseconds(300);
  Open(options);
  Append("first");
  const uint64_t one_group = WritesAfterOldestSnapshot();
  ASSERT_GT(one_group, 0u);
  // 20 more, 50 ms apart (well within the writer's 1 s pause): 1 s.
  for (int i = 0; i < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    Append(absl::StrCat("e", i));
  }
  // Held from opening, the snapshot would be 21 groups behind; let go at
  // 300 ms, about 6.
  EXPECT_LT(WritesAfterOldestSnapshot(), 14 * one_group)
      << "one group " << one_group
      << " writes: the opening snapshot was held through 1 s of appends";
}

// From opening to the first pause the oldest snapshot is the one the log
// opened with: what the run before wrote since its own last pause waits
// for this one's, rather than for its first appends.
TEST_F(IdleSnapshotTest, TheFirstAppendsAfterOpeningHoldTheSnapshotOfOpening) {
  Append("e");
  EXPECT_GT(WritesAfterOldestSnapshot(), 0u)
      << "the first group's snapshot became the oldest";
}

}  // namespace
}  // namespace annals::storage
