// The write path's liveness, as a watchdog sees it (EventLog::Probe and
// WriterProgress, storage/event_log.h): a probe comes back from an idle
// log, waits behind a held writer, comes back while storage has failed
// without keeping the log from resuming it, and a rebuild shows progress;
// the writer and syncer threads are named for top -H and perf.
#include <dirent.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "storage/event_log.h"
#include "storage/projector.h"
#include "storage/rocks_event_log.h"
#include "tests/storage/storage_faults.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::FailingWalFileSystem;
using ::annals::storage::testing::Fault;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::ScratchDir;
using ::annals::storage::testing::WritableStates;
using ::annals::testing::IsOk;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

// What came back, in the order it came back: "probe N", "append ID".
class Answers {
 public:
  void Add(std::string what) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    answers_.push_back(std::move(what));
  }
  // Waits up to `timeout` for `count` answers; whether they came.
  bool WaitFor(size_t count, absl::Duration timeout = absl::Seconds(10))
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answers_.size() >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<std::string> answers() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return answers_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> answers_ ABSL_GUARDED_BY(mu_);
};

// Writes one key per event.
class KeyPerEventProjector : public Projector {
 public:
  std::string Version() const override { return "key-per-event/1"; }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       ProjectionContext* context) override {
    for (const v1::RecordedEvent* event : events) {
      absl::Status put = context->Put(ProjectionFamily::kRelationships,
                                      event->event().id(), "1");
      if (!put.ok()) return put;
    }
    return absl::OkStatus();
  }
};

class WriterProbeTest : public ::testing::Test {
 protected:
  WriterProbeTest() {
    options_.sync = false;
    options_.before_group = [this] {
      absl::MutexLock lock(&gate_mu_, absl::Condition(&gate_open_));
    };
  }

  void Open(rocksdb::Env* env = nullptr) {
    auto log = OpenRocksEventLogWithEnv(dir_.Sub("log"), options_, env);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
  }

  void Probe(int n) {
    log_->Probe([this, n] { answers_.Add(absl::StrCat("probe ", n)); });
  }

  void SetGate(bool open) {
    absl::MutexLock lock(&gate_mu_);
    gate_open_ = open;
  }

  ScratchDir dir_;
  LogOptions options_;
  absl::Mutex gate_mu_;
  bool gate_open_ ABSL_GUARDED_BY(gate_mu_) = true;
  Answers answers_;  // outlives the log, whose threads answer into it
  std::unique_ptr<rocksdb::Env> env_;  // outlives log_
  std::unique_ptr<EventLog> log_;
};

// The names of this process's threads (/proc/self/task/*/comm).
std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return names;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(absl::StrCat("/proc/self/task/", entry->d_name, "/comm"));
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  closedir(tasks);
  return names;
}

TEST_F(WriterProbeTest, WriterAndSyncerThreadsAreNamed) {
  EXPECT_THAT(ThreadNames(), Not(Contains("annals-writer")));
  Open();
  EXPECT_THAT(ThreadNames(), Contains("annals-writer"));
  EXPECT_THAT(ThreadNames(), Contains("annals-syncer"));
}

TEST_F(WriterProbeTest, ProbeOfAnIdleLogComesBackAndCountsProgress) {
  Open();
  const uint64_t before = log_->WriterProgress();
  Probe(1);
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_GT(log_->WriterProgress(), before);
}

TEST_F(WriterProbeTest, ProbeWaitsForAHeldWriterThenComesBackAfterTheAppends) {
  Open();
  SetGate(false);
  log_->AppendAsync(
      MakeBatch("JPN-PRK", ExpectedVersion::Any(), {MakeEvent("held")}),
      [this](absl::StatusOr<AppendResult> result) {
        EXPECT_THAT(result, IsOk());
        answers_.Add("append held");
      });
  Probe(1);
  const uint64_t progress = log_->WriterProgress();
  EXPECT_FALSE(answers_.WaitFor(1, absl::Milliseconds(300)))
      << "a probe came back past a writer that is not moving";
  EXPECT_EQ(log_->WriterProgress(), progress);
  SetGate(true);
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_THAT(answers_.answers(), ElementsAre("append held", "probe 1"));
}

TEST_F(WriterProbeTest, ProbeOfAClosedLogComesBackAtOnce) {
  Open();
  log_->Close();
  Probe(1);
  EXPECT_THAT(answers_.answers(), ElementsAre("probe 1"));
}

TEST_F(WriterProbeTest, ProbesComeBackWhileStorageHasFailedAndItStillResumes) {
  auto fs = std::make_shared<FailingWalFileSystem>();
  env_ = rocksdb::NewCompositeEnv(fs);
  options_.sync = true;
  Open(env_.get());
  WritableStates states;
  log_->WatchWritable(states.Listener());
  absl::Cleanup unwatch = [this] { log_->WatchWritable(nullptr); };
  fs->control = Fault::kNoSpace;
  EXPECT_FALSE(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                      {MakeEvent("refused")}))
                   .ok());
  ASSERT_TRUE(states.WaitUntil(false));

  // A probe every 100 ms, ten times as often as the log retries its storage.
  absl::Notification stop;
  int sent = 0;
  std::thread prober([&] {
    while (!stop.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      Probe(++sent);
    }
  });
  ASSERT_TRUE(answers_.WaitFor(3)) << "no probe came back from a failed log";
  fs->control = Fault::kNone;
  EXPECT_TRUE(states.WaitUntil(true)) << "probes kept the log from resuming";
  stop.Notify();
  prober.join();
  EXPECT_TRUE(answers_.WaitFor(static_cast<size_t>(sent)));
  EXPECT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                     {MakeEvent("after")})),
              IsOk());
}

TEST_F(WriterProbeTest, RepairOfTheProjectionsShowsProgressAsItGoes) {
  KeyPerEventProjector projector;
  options_.projector = &projector;
  Open();
  AppendBatch batch = MakeBatch("JPN-PRK", ExpectedVersion::Any(), {});
  for (int i = 0; i < 3000; ++i) {
    batch.events.push_back(MakeEvent(absl::StrCat("e", i)));
  }
  ASSERT_THAT(log_->Append(std::move(batch)), IsOk());
  const uint64_t before = log_->WriterProgress();
  ASSERT_THAT(log_->RebuildProjections(/*repair=*/true), IsOk());
  // A step per 1,024 events replayed, per 4,096 keys compared, per group.
  EXPECT_GE(log_->WriterProgress() - before, 3u);
}

}  // namespace
}  // namespace annals::storage
