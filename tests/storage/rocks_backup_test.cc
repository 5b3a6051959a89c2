// Backups of the RocksDB event log (storage/rocks_backup.h), on real
// RocksDB: a backup holds the head it reports and restores to it, a second
// backup copies only what is new, a backup under appends holds one commit,
// and a restore refuses a data directory that is not empty, a backup with
// a flipped byte in any of its files (naming the file), and a restored log
// that is not the log the backup records.
#include "storage/rocks_backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

namespace fs = std::filesystem;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::ScratchDir;
using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RocksBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions options;
    options.sync = false;
    ANNALS_ASSERT_OK_AND_ASSIGN(log_,
                                OpenRocksEventLog(dir_.Sub("log"), options));
  }

  // Appends `count` events, one batch of `per_batch` at a time.
  void AppendEvents(int count, int per_batch = 5) {
    for (int i = 0; i < count; i += per_batch) {
      std::vector<v1::Event> events;
      for (int j = i; j < i + per_batch && j < count; ++j) {
        events.push_back(MakeEvent(absl::StrCat("event-", next_id_++)));
      }
      ANNALS_ASSERT_OK(log_->Append(
          MakeBatch("JPN-PRK", ExpectedVersion::Any(), std::move(events))));
    }
  }

  // Every position of `log` from 1 to `head` exactly as stored.
  static std::vector<StoredEvent> Stored(const EventLog& log, uint64_t head) {
    std::vector<StoredEvent> all;
    while (all.size() < head) {
      absl::StatusOr<std::vector<StoredEvent>> page =
          log.ReadStored(all.size() + 1, 500);
      EXPECT_THAT(page, IsOk());
      if (!page.ok() || page->empty()) break;
      for (StoredEvent& event : *page) {
        if (event.position <= head) all.push_back(std::move(event));
      }
    }
    return all;
  }

  // Restores backup `id` into a new directory and opens it.
  std::unique_ptr<EventLog> RestoreAndOpen(uint32_t id,
                                           const std::string& name) {
    const std::string data_dir = dir_.Sub(name);
    absl::StatusOr<BackupEntry> restored =
        RestoreRocksBackup(backups(), id, data_dir);
    EXPECT_THAT(restored, IsOk());
    if (!restored.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        OpenRocksEventLog(data_dir, LogOptions());
    EXPECT_THAT(log, IsOk());
    return log.ok() ? *std::move(log) : nullptr;
  }

  std::string backups() const { return dir_.Sub("backups"); }

  ScratchDir dir_;
  std::unique_ptr<EventLog> log_;
  int next_id_ = 1;
};

TEST_F(RocksBackupTest, BackupHoldsTheHeadAndRestoresToIt) {
  AppendEvents(50);
  ANNALS_ASSERT_OK_AND_ASSIGN(const BackupReport report,
                              log_->Backup(backups()));
  EXPECT_EQ(report.id, 1u);
  EXPECT_EQ(report.head.position, 50u);
  EXPECT_EQ(report.head.hash, log_->GetHead().hash);
  EXPECT_EQ(report.tree_head.size, 50u);
  EXPECT_EQ(report.tree_head.root, log_->GetTreeHead().root);
  EXPECT_GT(report.files, 3u);
  EXPECT_EQ(report.copied_bytes, report.bytes);

  ANNALS_ASSERT_OK_AND_ASSIGN(const std::vector<BackupEntry> listed,
                              ListRocksBackups(backups()));
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].id, 1u);
  EXPECT_TRUE(listed[0].has_head);
  EXPECT_EQ(listed[0].head.position, 50u);
  EXPECT_EQ(listed[0].head.hash, report.head.hash);
  EXPECT_EQ(listed[0].tree_head.root, report.tree_head.root);
  EXPECT_EQ(listed[0].files, report.files);
  EXPECT_EQ(listed[0].bytes, report.bytes);

  AppendEvents(10);  // after the backup: not in it
  std::unique_ptr<EventLog> restored = RestoreAndOpen(1, "restored");
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->GetHead().position, 50u);
  EXPECT_EQ(restored->GetHead().hash, report.head.hash);
  EXPECT_EQ(restored->GetTreeHead().root, report.tree_head.root);
  ANNALS_EXPECT_OK(restored->VerifyChain());
  const std::vector<StoredEvent> original = Stored(*log_, 50);
  const std::vector<StoredEvent> copy = Stored(*restored, 50);
  ASSERT_EQ(copy.size(), original.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(copy[i].stored, original[i].stored) << "position " << i + 1;
    EXPECT_EQ(copy[i].chain_hash, original[i].chain_hash);
  }
  // The restored log takes appends where the backup left off.
  ANNALS_ASSERT_OK_AND_ASSIGN(
      const AppendResult appended,
      restored->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                 {MakeEvent("after-restore")})));
  EXPECT_EQ(appended.positions.front(), 51u);
}

TEST_F(RocksBackupTest, EmptyLogBacksUpAndRestores) {
  ANNALS_ASSERT_OK_AND_ASSIGN(const BackupReport report,
                              log_->Backup(backups()));
  EXPECT_EQ(report.head.position, 0u);
  std::unique_ptr<EventLog> restored = RestoreAndOpen(report.id, "restored");
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->GetHead().position, 0u);
}

// RocksDB rewrites each freshly flushed table once, soon after (a
// BottommostFiles compaction, zeroing its sequence numbers); a backup
// shares with the earlier ones the tables that had settled when it was
// taken.
TEST_F(RocksBackupTest, LaterBackupsCopyOnlyWhatIsNew) {
  AppendEvents(200);
  ANNALS_ASSERT_OK_AND_ASSIGN(const BackupReport first,
                              log_->Backup(backups()));
  EXPECT_EQ(first.copied_bytes, first.bytes);
  BackupReport settled;
  for (int tries = 0; tries < 100; ++tries) {
    ANNALS_ASSERT_OK_AND_ASSIGN(settled, log_->Backup(backups()));
    if (settled.copied_bytes < settled.bytes) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_LT(settled.copied_bytes, settled.bytes) << "no backup shared a table";
  EXPECT_EQ(settled.head.position, 200u);
  AppendEvents(20);
  ANNALS_ASSERT_OK_AND_ASSIGN(const BackupReport last, log_->Backup(backups()));
  EXPECT_EQ(last.id, settled.id + 1);
  EXPECT_EQ(last.head.position, 220u);
  EXPECT_LT(last.copied_bytes, last.bytes);
  EXPECT_LT(last.copied_bytes, first.bytes);
  ANNALS_ASSERT_OK_AND_ASSIGN(const std::vector<BackupEntry> listed,
                              ListRocksBackups(backups()));
  ASSERT_THAT(listed, SizeIs(last.id));
  EXPECT_EQ(listed.front().head.position, 200u);
  EXPECT_EQ(listed.back().head.position, 220u);

  std::unique_ptr<EventLog> older = RestoreAndOpen(first.id, "older");
  ASSERT_NE(older, nullptr);
  EXPECT_EQ(older->GetHead().hash, first.head.hash);
  std::unique_ptr<EventLog> newer = RestoreAndOpen(last.id, "newer");
  ASSERT_NE(newer, nullptr);
  EXPECT_EQ(newer->GetHead().hash, last.head.hash);
  EXPECT_EQ(newer->GetTreeHead().root, last.tree_head.root);
}

TEST_F(RocksBackupTest, BackupUnderAppendsHoldsOneCommit) {
  AppendEvents(100);
  // Appends acknowledged from now on, in order, by the appending thread.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acknowledged{0};
  std::thread appender([&] {
    for (int i = 0; !stop.load(); ++i) {
      std::vector<v1::Event> events;
      for (int j = 0; j < 3; ++j) {
        events.push_back(MakeEvent(absl::StrCat("live-", i, "-", j)));
      }
      absl::StatusOr<AppendResult> result = log_->Append(
          MakeBatch("PRK-USA", ExpectedVersion::Any(), std::move(events)));
      if (!result.ok()) break;
      acknowledged.store(result->positions.back());
    }
  });
  // Let some appends through first.
  while (acknowledged.load() < 200) std::this_thread::yield();
  const uint64_t acknowledged_before = acknowledged.load();
  absl::StatusOr<BackupReport> report = log_->Backup(backups());
  const uint64_t acknowledged_after = acknowledged.load();
  stop.store(true);
  appender.join();
  ASSERT_THAT(report, IsOk());
  // Every append acknowledged before the backup began is in it; whole
  // batches only (3 events each after the first 100).
  EXPECT_GE(report->head.position, acknowledged_before);
  EXPECT_EQ((report->head.position - 100) % 3, 0u);
  EXPECT_GT(acknowledged_after, acknowledged_before);  // appends went on
  ANNALS_ASSERT_OK_AND_ASSIGN(const v1::RecordedEvent at_head,
                              log_->GetEventAt(report->head.position));
  EXPECT_EQ(at_head.hash(), report->head.hash);
  ANNALS_ASSERT_OK_AND_ASSIGN(const std::string root,
                              log_->RootAt(report->head.position));
  EXPECT_EQ(root, report->tree_head.root);

  std::unique_ptr<EventLog> restored = RestoreAndOpen(report->id, "restored");
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->GetHead().position, report->head.position);
  EXPECT_EQ(restored->GetHead().hash, report->head.hash);
  EXPECT_EQ(restored->GetTreeHead().root, report->tree_head.root);
  ANNALS_EXPECT_OK(restored->VerifyChain());
}

TEST_F(RocksBackupTest, RefusesDirectoriesItCannotUse) {
  auto refused = [&](const std::string& dir, const std::string& why) {
    EXPECT_THAT(log_->Backup(dir),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << dir;
  };
  refused("", "required");
  refused("relative/backups", "must be an absolute path");
  refused(dir_.Sub("log/backups"), "inside the data directory");
  refused(dir_.Sub("log"), "inside the data directory");
  std::ofstream(dir_.Sub("file")) << "not a directory";
  refused(dir_.Sub("file"), "is not a directory");
  fs::create_directories(dir_.Sub("other"));
  std::ofstream(dir_.Sub("other/notes.txt")) << "something else";
  refused(dir_.Sub("other"), "neither empty nor a backup directory");
  refused(dir_.Sub("missing/backups"), "nor does its parent directory");
  EXPECT_FALSE(fs::exists(dir_.Sub("missing")));
}

TEST_F(RocksBackupTest, RefusesToRestoreIntoANonEmptyDirectory) {
  AppendEvents(10);
  ANNALS_ASSERT_OK(log_->Backup(backups()));
  fs::create_directories(dir_.Sub("busy"));
  std::ofstream(dir_.Sub("busy/CURRENT")) << "MANIFEST-000001\n";
  EXPECT_THAT(RestoreRocksBackup(backups(), 1, dir_.Sub("busy")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir_.Sub("busy")),
                             HasSubstr("not empty"), HasSubstr("CURRENT"))));
  int entries = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator(dir_.Sub("busy"))) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_THAT(RestoreRocksBackup(backups(), 7, dir_.Sub("fresh")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no backup 7")));
  EXPECT_THAT(RestoreRocksBackup(dir_.Sub("nowhere"), 1, dir_.Sub("fresh")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(dir_.Sub("fresh")));
}

TEST_F(RocksBackupTest, AFlippedByteInAnyFileIsRefusedByName) {
  AppendEvents(120);
  ANNALS_ASSERT_OK(log_->Backup(backups()));
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(backups())) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && entry.file_size() > 0 &&
        !absl::StrContains(path, "/meta/")) {
      files.push_back(path);
    }
  }
  ASSERT_GT(files.size(), 3u);
  for (const std::string& file : files) {
    const auto size = fs::file_size(file);
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(static_cast<std::streamoff>(size / 2));
    const char byte = static_cast<char>(io.get());
    io.seekp(static_cast<std::streamoff>(size / 2));
    io.put(static_cast<char>(byte ^ 0x01));
    io.close();
    EXPECT_THAT(RestoreRocksBackup(backups(), 1, dir_.Sub("restored")),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("damaged"), HasSubstr(file))));
    EXPECT_FALSE(fs::exists(dir_.Sub("restored"))) << file;
    std::fstream undo(file, std::ios::in | std::ios::out | std::ios::binary);
    undo.seekp(static_cast<std::streamoff>(size / 2));
    undo.put(byte);
  }
  ANNALS_EXPECT_OK(RestoreRocksBackup(backups(), 1, dir_.Sub("restored")));
}

// BackupEngine's meta file of backup 1, with its metadata line changed to
// record another head: the files check, but the restored log is not the
// log the backup records.
TEST_F(RocksBackupTest, RestoredLogMustBeTheLogTheBackupRecords) {
  AppendEvents(30);
  ANNALS_ASSERT_OK_AND_ASSIGN(const BackupReport report,
                              log_->Backup(backups()));
  const std::string meta = backups() + "/meta/1";
  std::ifstream in(meta);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::vector<std::string> lines = absl::StrSplit(text.str(), '\n');
  bool changed = false;
  for (std::string& line : lines) {
    if (!absl::StartsWith(line, "metadata ")) continue;
    const std::string recorded = absl::HexStringToBytes(line.substr(9));
    const std::string other =
        absl::StrReplaceAll(recorded, {{"position=30 ", "position=29 "}});
    ASSERT_NE(other, recorded);
    line = "metadata " + absl::BytesToHexString(other);
    changed = true;
  }
  ASSERT_TRUE(changed) << text.str();
  std::ofstream(meta, std::ios::trunc) << absl::StrJoin(lines, "\n");
  EXPECT_THAT(RestoreRocksBackup(backups(), report.id, dir_.Sub("restored")),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("not the log the backup records"),
                             HasSubstr("head position 30 instead of 29"))));
  EXPECT_FALSE(fs::exists(dir_.Sub("restored")));
}

TEST_F(RocksBackupTest, ClosedLogTakesNoBackup) {
  log_->Close();
  EXPECT_THAT(log_->Backup(backups()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("closed")));
}

}  // namespace
}  // namespace annals::storage
