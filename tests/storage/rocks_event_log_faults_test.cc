// The RocksDB event log (storage/event_log.h) under storage faults: failed
// writes and syncs, a damaged write-ahead log, changed or missing bytes.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/file_system.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/rocks_event_log.h"
#include "storage/status_macros.h"
#include "tests/storage/rocks_event_log_fixture.h"
#include "tests/storage/storage_faults.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::FailingWalFileSystem;
using ::annals::storage::testing::Fault;
using ::annals::storage::testing::GroupHarness;
using ::annals::storage::testing::Injected;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::RawDb;
using ::annals::storage::testing::RocksEventLogTest;
using ::annals::storage::testing::WalFileSystem;
using ::annals::storage::testing::WritableStates;
using ::annals::storage::testing::kJpnPrk;
using ::annals::storage::testing::kPrkUsa;
using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- Storage failure ---

TEST_F(RocksEventLogTest, FailedWriteFailsTheGroupUntilStorageIsBack) {
  auto fs = OpenOn<FailingWalFileSystem>();
  ASSERT_NE(log_, nullptr);

  {
    GroupHarness group(log_.get(), gate_.get());  // position 2; holds the writer
    fs->control = Fault::kNoSpace;
    group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}));
    group.Queue(MakeBatch(kPrkUsa, ExpectedVersion::Any(), {MakeEvent("b")}));
    // Would fail on its own; the failed write answers for the whole group.
    group.Queue(
        MakeBatch(kJpnPrk, ExpectedVersion::NoStream(), {MakeEvent("c")}));
    for (const auto& result : group.Run()) {
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable,
                                   HasSubstr("injected fault")));
    }
  }
  EXPECT_EQ(log_->GetHead().position, 2u);
  EXPECT_THAT(log_->GetEvent("a"), StatusIs(absl::StatusCode::kNotFound));
  WritableStates states;
  log_->WatchWritable(states.Listener());
  absl::Cleanup unwatch = [this] {
    if (log_ != nullptr) log_->WatchWritable(nullptr);
  };
  ASSERT_TRUE(states.WaitUntil(false));
  EXPECT_THAT(states.states().back(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("injected fault")));
  // Refused at once while storage is failing.
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("d")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("until storage is back")));

  // Once it is back the log takes appends again by itself.
  fs->control = Fault::kNone;
  ASSERT_TRUE(states.WaitUntil(true));
  EXPECT_EQ(log_->GetHead().position, 2u);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult after,
      Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}));
  EXPECT_EQ(after.positions, std::vector<uint64_t>{3});
  EXPECT_THAT(log_->VerifyChain(), IsOk());
  log_->WatchWritable(nullptr);

  log_.reset();
  Open();  // default environment
  EXPECT_EQ(log_->GetHead().position, 3u);
  EXPECT_THAT(log_->GetEvent("a"), IsOk());
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(RocksEventLogTest, IoErrorOnTheWalStopsTheLogUntilItIsOpenedAgain) {
  auto fs = OpenOn<FailingWalFileSystem>();
  ASSERT_NE(log_, nullptr);
  WritableStates states;
  log_->WatchWritable(states.Listener());
  absl::Cleanup unwatch = [this] {
    if (log_ != nullptr) log_->WatchWritable(nullptr);
  };

  fs->control = Fault::kIoError;
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("injected fault")));
  // RocksDB does not resume after an I/O error on its WAL: the log says
  // so and stays stopped, even once the disk works again.
  ASSERT_TRUE(states.WaitUntil(false, "restart annalsd"));
  fs->control = Fault::kNone;
  absl::SleepFor(2 * absl::Seconds(1));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("b")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("restart annalsd")));
  EXPECT_EQ(log_->GetHead().position, 1u);

  log_->WatchWritable(nullptr);
  log_.reset();
  Open();  // default environment
  EXPECT_EQ(log_->GetHead().position, 1u);
  EXPECT_THAT(log_->GetEvent("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->VerifyChain(), IsOk());
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}),
              IsOk());
}

// A WAL file whose syncs fail while `fail` is set, and wait while `hold`
// is set (`held` is notified when one starts waiting).
class SyncControlledWalFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  struct Control {
    std::atomic<Fault> fail{Fault::kNone};
    absl::Mutex mu;
    bool hold ABSL_GUARDED_BY(mu) = false;
    int held ABSL_GUARDED_BY(mu) = 0;  // syncs waiting
  };
  SyncControlledWalFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                        Control* control)
      : FSWritableFileOwnerWrapper(std::move(file)), control_(control) {}
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus gate = Gate();
    return gate.ok() ? target()->Sync(options, dbg) : gate;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus gate = Gate();
    return gate.ok() ? target()->Fsync(options, dbg) : gate;
  }

 private:
  rocksdb::IOStatus Gate() {
    {
      absl::MutexLock lock(&control_->mu);
      ++control_->held;
      control_->mu.Await(absl::Condition(
          +[](Control* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu) {
            return !c->hold;
          },
          control_));
      --control_->held;
    }
    return Injected(control_->fail.load(), "injected sync fault");
  }

  Control* control_;
};

using SyncControlledFileSystem = WalFileSystem<SyncControlledWalFile>;

TEST_F(RocksEventLogTest, NothingIsVisibleOrAcknowledgedBeforeItsSyncEnds) {
  options_.projector = nullptr;
  auto fs = OpenOn<SyncControlledFileSystem>();
  ASSERT_NE(log_, nullptr);

  {
    absl::MutexLock lock(&fs->control.mu);
    fs->control.hold = true;
  }
  absl::Notification acknowledged;
  log_->AppendAsync(MakeBatch(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}),
                    [&](absl::StatusOr<AppendResult> result) {
                      EXPECT_THAT(result, IsOk());
                      acknowledged.Notify();
                    });
  {
    // The group is written and its sync has started, but is not done.
    absl::MutexLock lock(&fs->control.mu);
    fs->control.mu.Await(absl::Condition(
        +[](SyncControlledWalFile::Control* c)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu) { return c->held > 0; },
        &fs->control));
  }
  // Meanwhile the writer goes on: a second group is written too.
  absl::Notification second;
  log_->AppendAsync(MakeBatch(kPrkUsa, ExpectedVersion::Any(), {MakeEvent("b")}),
                    [&](absl::StatusOr<AppendResult> result) {
                      EXPECT_THAT(result, IsOk());
                      second.Notify();
                    });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(acknowledged.HasBeenNotified());
  EXPECT_FALSE(second.HasBeenNotified());
  EXPECT_EQ(log_->GetHead().position, 1u);
  EXPECT_THAT(log_->GetEvent("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->GetEventAt(2), StatusIs(absl::StatusCode::kNotFound));
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage all,
                              log_->ReadAll(0, Direction::kForward, 10));
  EXPECT_EQ(all.last, 1u);
  EXPECT_EQ(all.events.size(), 1u);

  {
    absl::MutexLock lock(&fs->control.mu);
    fs->control.hold = false;
  }
  acknowledged.WaitForNotification();
  second.WaitForNotification();
  EXPECT_EQ(log_->GetHead().position, 3u);
  EXPECT_THAT(log_->GetEvent("a"), IsOk());
  EXPECT_THAT(log_->GetEvent("b"), IsOk());
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(RocksEventLogTest, FailedSyncAcknowledgesNothingUntilStorageIsBack) {
  std::vector<std::string> committed;  // what subscribers would hear
  options_.on_commit = [&committed](
                           const std::vector<const v1::RecordedEvent*>& events,
                           const Head&) {
    for (const auto* event : events) committed.push_back(event->event().id());
  };
  auto fs = OpenOn<SyncControlledFileSystem>();
  ASSERT_NE(log_, nullptr);

  fs->control.fail = Fault::kNoSpace;
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("injected sync fault"),
                             HasSubstr("may be recorded"))));
  EXPECT_EQ(log_->GetHead().position, 1u);
  EXPECT_THAT(log_->GetEvent("a"), StatusIs(absl::StatusCode::kNotFound));
  WritableStates states;
  log_->WatchWritable(states.Listener());
  absl::Cleanup unwatch = [this] {
    if (log_ != nullptr) log_->WatchWritable(nullptr);
  };
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("b")}),
              StatusIs(absl::StatusCode::kUnavailable));

  // "a" was written but never acknowledged. Once storage is back the log
  // makes it durable and publishes it, subscribers hear of it, and a retry
  // with the same id is answered without a second copy.
  fs->control.fail = Fault::kNone;
  ASSERT_TRUE(states.WaitUntil(true));
  EXPECT_EQ(log_->GetHead().position, 2u);
  EXPECT_THAT(log_->GetEvent("a"), IsOk());
  EXPECT_THAT(log_->GetEvent("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(committed, ElementsAre("before", "a"));
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult retry,
      Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a")}));
  EXPECT_EQ(retry.positions, std::vector<uint64_t>{2});
  EXPECT_TRUE(retry.already_recorded);
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("b")}),
              IsOk());
  EXPECT_THAT(log_->VerifyChain(), IsOk());
  log_->WatchWritable(nullptr);

  log_.reset();
  Open();  // default environment
  EXPECT_EQ(log_->GetHead().position, 3u);
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

// --- Corruption ---

// --- The write-ahead log on open ---

class WalTest : public RocksEventLogTest {
 protected:
  // 50 synced appends, then the log is closed: they are in the WAL only.
  void SetUp() override {
    options_.sync = true;
    RocksEventLogTest::SetUp();
    for (int i = 1; i <= 50; ++i) AppendEach(kJpnPrk, {absl::StrCat(i)});
    log_.reset();
  }
  // The largest WAL file of the log.
  std::string WalFile() {
    std::string largest;
    uintmax_t size = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      if (entry.path().extension() == ".log" && entry.file_size() > size) {
        largest = entry.path().string();
        size = entry.file_size();
      }
    }
    EXPECT_GT(size, 50u * 400) << "the appends are not in one WAL file";
    return largest;
  }
};

TEST_F(WalTest, DamagedRecordBeforeTheTailRefusesToOpen) {
  const std::string wal = WalFile();
  std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(
      std::filesystem::file_size(wal) / 2);
  file.seekg(middle);
  const char byte = static_cast<char>(file.get());
  file.seekp(middle);
  file.put(static_cast<char>(byte ^ 0x40));
  file.close();

  absl::StatusOr<std::unique_ptr<EventLog>> log =
      OpenRocksEventLog(path_, options_);
  EXPECT_THAT(log, StatusIs(absl::StatusCode::kDataLoss,
                            AllOf(HasSubstr("acknowledged may be missing"),
                                  HasSubstr("backup or a replica"))));
}

TEST_F(WalTest, RecordTornAtTheTailIsDropped) {
  // A crash in the middle of writing the last record (never acknowledged:
  // it was not synced).
  const std::string wal = WalFile();
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 5);
  Open();
  EXPECT_EQ(log_->GetHead().position, 49u);
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

class CorruptionTest : public RocksEventLogTest {
 protected:
  // Five events, then the log is closed so that RawDb can open it.
  void SetUp() override {
    RocksEventLogTest::SetUp();
    AppendEach(kJpnPrk, {"1", "2", "3", "4", "5"});
    log_.reset();
  }
};

TEST_F(CorruptionTest, UntouchedLogOpensAndVerifies) {
  Open();
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(CorruptionTest, ChangedHeadHashInMetaRefusesToOpen) {
  {
    RawDb raw(path_);
    std::string hash = raw.Get(format::ColumnFamily::kMeta,
                               std::string(format::kMetaHeadHash));
    hash[0] ^= 0x01;
    raw.Put(format::ColumnFamily::kMeta, std::string(format::kMetaHeadHash),
            hash);
  }
  EXPECT_THAT(OpenRocksEventLog(path_, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("hash of position 5 does not match")));
}

TEST_F(CorruptionTest, ChangedBytesOfTheHeadEventRefuseToOpen) {
  RawDb(path_).FlipStoredByte(5);
  EXPECT_THAT(OpenRocksEventLog(path_, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("hash of position 5 does not match")));
}

TEST_F(CorruptionTest, EventBeyondTheHeadRefusesToOpen) {
  {
    RawDb raw(path_);
    raw.Put(format::ColumnFamily::kEvents, format::EventKey(6),
            raw.Get(format::ColumnFamily::kEvents, format::EventKey(5)));
  }
  EXPECT_THAT(OpenRocksEventLog(path_, options_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 6")));
}

TEST_F(CorruptionTest, UnknownFormatVersionIsFailedPrecondition) {
  RawDb(path_).Put(format::ColumnFamily::kMeta,
                   std::string(format::kMetaFormatVersion),
                   format::EncodeBigEndian64(99));
  EXPECT_THAT(OpenRocksEventLog(path_, options_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("format version 99")));
}

TEST_F(CorruptionTest, VerifyChainNamesTheFirstChangedPosition) {
  RawDb(path_).FlipStoredByte(2);
  Open();  // only the head is checked on open
  EXPECT_THAT(log_->VerifyChain(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("hash of position 2 does not match")));
}

TEST_F(CorruptionTest, VerifyChainAndReadsDetectAMissingPosition) {
  RawDb(path_).Delete(format::ColumnFamily::kEvents, format::EventKey(3));
  Open();
  EXPECT_THAT(log_->VerifyChain(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("position 3 is missing")));
  EXPECT_THAT(log_->ReadAll(0, Direction::kForward, 10),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("position 3 is missing")));
}


}  // namespace
}  // namespace annals::storage
