// The fixture of the RocksDB event log's tests (storage/event_log.h): a
// log in a scratch directory, appended to and reopened by each test, and a
// gate that holds the writer so that queued appends commit as one group,
// and direct access to the database underneath to damage it.
#ifndef ANNALS_TESTS_STORAGE_ROCKS_EVENT_LOG_FIXTURE_H_
#define ANNALS_TESTS_STORAGE_ROCKS_EVENT_LOG_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/rocks_event_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage::testing {

inline constexpr absl::string_view kJpnPrk = "JPN-PRK";
inline constexpr absl::string_view kPrkUsa = "PRK-USA";

inline std::vector<uint64_t> Positions(const ReadPage& page) {
  std::vector<uint64_t> positions;
  for (const auto& e : page.events) positions.push_back(e.position());
  return positions;
}

inline std::vector<uint64_t> Versions(const ReadPage& page) {
  std::vector<uint64_t> versions;
  for (const auto& e : page.events) versions.push_back(e.stream_version());
  return versions;
}

// Installed as LogOptions::before_group: while closed, the writer waits
// before taking the queued appends as a group.
class WriterGate {
 public:
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  void Pass() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_, absl::Condition(&open_));
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
};

class RocksEventLogTest : public ::testing::Test {
 protected:
  RocksEventLogTest() : path_(dir_.Sub("log")) {
    // Durability is the crash test's business; these test behaviour.
    options_.sync = false;
    options_.before_group = [gate = gate_] { gate->Pass(); };
  }

  void SetUp() override { Open(); }

  void Open() {
    auto log = OpenRocksEventLog(path_, options_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  void Reopen() {
    log_.reset();
    Open();
  }

  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<v1::Event> events) {
    return log_->Append(MakeBatch(stream, expected, std::move(events)));
  }

  // Appends one event per id to `stream`, expecting success.
  void AppendEach(absl::string_view stream, std::vector<std::string> ids) {
    for (const std::string& id : ids) {
      ASSERT_THAT(Append(stream, ExpectedVersion::Any(), {MakeEvent(id)}),
                  ::annals::testing::IsOk());
    }
  }

  // Reopens the log, synced, with RocksDB's I/O going through a new
  // `FileSystem` (which the test controls), and appends "before".
  template <typename FileSystem>
  std::shared_ptr<FileSystem> OpenOn() {
    log_.reset();
    auto fs = std::make_shared<FileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs);
    options_.sync = true;
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        OpenRocksEventLogWithEnv(path_, options_, env_.get());
    EXPECT_THAT(log, ::annals::testing::IsOk());
    if (log.ok()) {
      log_ = *std::move(log);
      AppendEach(kJpnPrk, {"before"});
    }
    return fs;
  }

  ScratchDir dir_;
  std::string path_;
  std::shared_ptr<WriterGate> gate_ = std::make_shared<WriterGate>();
  LogOptions options_;
  std::unique_ptr<rocksdb::Env> env_;  // OpenOn's; outlives log_
  std::unique_ptr<EventLog> log_;
};

// Appends a "warm-up" event, then holds the writer at its gate so that the
// appends queued until Run are decided and committed together as one group.
class GroupHarness {
 public:
  GroupHarness(EventLog* log, WriterGate* gate) : log_(log), gate_(gate) {
    EXPECT_THAT(log_->Append(MakeBatch("warm-up", ExpectedVersion::Any(),
                                       {MakeEvent("warm-up")})),
                ::annals::testing::IsOk());
    gate_->Close();
  }
  ~GroupHarness() { gate_->Open(); }

  // Queues `batch`; its result lands in results()[i], i in call order.
  void Queue(AppendBatch batch) {
    const size_t i = results_.size();
    results_.emplace_back(absl::UnknownError("not answered"));
    done_.push_back(std::make_unique<absl::Notification>());
    log_->AppendAsync(std::move(batch),
                      [this, i](absl::StatusOr<AppendResult> result) {
                        results_[i] = std::move(result);
                        done_[i]->Notify();
                      });
  }

  // Lets the writer go and waits for every queued append.
  const std::vector<absl::StatusOr<AppendResult>>& Run() {
    gate_->Open();
    for (auto& done : done_) done->WaitForNotification();
    return results_;
  }

 private:
  EventLog* log_;
  WriterGate* gate_;
  std::vector<absl::StatusOr<AppendResult>> results_;
  std::vector<std::unique_ptr<absl::Notification>> done_;
};

// Direct access to the database, to damage it the way a disk or an operator
// could.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (absl::string_view name : format::kColumnFamilyNames) {
      descriptors.emplace_back(std::string(name),
                               rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path,
                                          descriptors, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }
  ~RawDb() {
    for (auto* handle : handles_) {
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
    }
  }

  std::string Get(format::ColumnFamily cf, const std::string& key) {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), Handle(cf), key, &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }
  void Put(format::ColumnFamily cf, const std::string& key,
           const std::string& value) {
    rocksdb::Status s =
        db_->Put(rocksdb::WriteOptions(), Handle(cf), key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  void Delete(format::ColumnFamily cf, const std::string& key) {
    rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), Handle(cf), key);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // Flips the last byte of the stored bytes at `position`.
  void FlipStoredByte(uint64_t position) {
    std::string value =
        Get(format::ColumnFamily::kEvents, format::EventKey(position));
    ASSERT_GT(value.size(), format::kHashSize);
    value.back() ^= 0x01;
    Put(format::ColumnFamily::kEvents, format::EventKey(position), value);
  }

 private:
  rocksdb::ColumnFamilyHandle* Handle(format::ColumnFamily cf) {
    return handles_[static_cast<int>(cf)];
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace annals::storage::testing

#endif  // ANNALS_TESTS_STORAGE_ROCKS_EVENT_LOG_FIXTURE_H_
