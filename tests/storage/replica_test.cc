// Replicas of a log of record (storage/replica.h): the same committed
// appends, refusals included, give replicas byte-identical events, chain
// hashes and Merkle roots, however the writer groups them; applied
// sequences survive a reopen; embedded logs and replicas refuse each
// other's directories.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "storage/replica.h"
#include "tests/storage/test_events.h"

namespace annals::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeBatch;
using testing::MakeEvent;
using testing::MakeRetraction;
using testing::ScratchDir;

constexpr absl::string_view kOfRecord = "jetstream:TEST";

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

// The committed appends of a small log of record: appends that record,
// and ones every replica must refuse alike.
std::vector<CommittedAppend> History() {
  std::vector<CommittedAppend> history;
  auto add = [&](AppendBatch batch, absl::Duration after) {
    CommittedAppend append;
    append.sequence = history.size() + 1;
    append.recorded_at = kStart + after;
    append.batch = std::move(batch);
    history.push_back(std::move(append));
  };
  add(MakeBatch("JPN-PRK", ExpectedVersion::NoStream(),
                {MakeEvent("a"), MakeEvent("b")}),
      absl::Seconds(1));
  // Lost a race: the stream is at version 2.
  add(MakeBatch("JPN-PRK", ExpectedVersion::Exact(1), {MakeEvent("c")}),
      absl::Seconds(2));
  add(MakeBatch("JPN-PRK", ExpectedVersion::Exact(2), {MakeEvent("c")}),
      absl::Seconds(3));
  // A retry: recorded once.
  add(MakeBatch("JPN-PRK", ExpectedVersion::Any(), {MakeEvent("c")}),
      absl::Seconds(4));
  // The same id with other content.
  add(MakeBatch("KOR-PRK", ExpectedVersion::Any(),
                {MakeEvent("c", "Something else.")}),
      absl::Seconds(5));
  // A correction of an event that is not in the log.
  add(MakeBatch("KOR-PRK", ExpectedVersion::Any(),
                {MakeRetraction("r1", "nowhere")}),
      absl::Seconds(6));
  // The log of record's clock stepped back: recorded_at does not.
  add(MakeBatch("KOR-PRK", ExpectedVersion::Any(),
                {MakeEvent("d"), MakeRetraction("r2", "a")}),
      absl::Seconds(0));
  return history;
}

// Applies `appends` all queued at once (one commit group or a few), or one
// at a time, and returns the answers.
std::vector<absl::StatusOr<AppendResult>> Apply(
    ReplicaLog* log, std::vector<CommittedAppend> appends, bool one_by_one) {
  std::vector<absl::StatusOr<AppendResult>> answers(appends.size());
  absl::BlockingCounter all(static_cast<int>(appends.size()));
  std::vector<absl::Notification> answered(appends.size());
  for (size_t i = 0; i < appends.size(); ++i) {
    log->ApplyAsync(std::move(appends[i]),
                    [&, i](absl::StatusOr<AppendResult> answer) {
                      answers[i] = std::move(answer);
                      answered[i].Notify();
                      all.DecrementCount();
                    });
    if (one_by_one) answered[i].WaitForNotification();
  }
  all.Wait();
  return answers;
}

std::vector<StoredEvent> AllStored(const EventLog& log) {
  absl::StatusOr<std::vector<StoredEvent>> stored = log.ReadStored(1, 1000);
  EXPECT_TRUE(stored.ok()) << stored.status();
  return stored.ok() ? *std::move(stored) : std::vector<StoredEvent>{};
}

TEST(ReplicaTest, TheSameCommittedAppendsGiveIdenticalReplicas) {
  ScratchDir dir;
  absl::StatusOr<std::unique_ptr<ReplicaLog>> grouped =
      OpenRocksReplica(dir.Sub("grouped"), LogOptions(), kOfRecord);
  absl::StatusOr<std::unique_ptr<ReplicaLog>> single =
      OpenRocksReplica(dir.Sub("single"), LogOptions(), kOfRecord);
  ASSERT_TRUE(grouped.ok()) << grouped.status();
  ASSERT_TRUE(single.ok()) << single.status();
  const auto a = Apply(grouped->get(), History(), false);
  const auto b = Apply(single->get(), History(), true);

  ASSERT_EQ(a.size(), 7u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].status().code(), b[i].status().code()) << "append " << i;
  }
  ASSERT_TRUE(a[0].ok()) << a[0].status();
  EXPECT_THAT(a[0]->positions, ElementsAre(1, 2));
  EXPECT_EQ(a[1].status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(a[2].ok());
  EXPECT_THAT(a[2]->positions, ElementsAre(3));
  ASSERT_TRUE(a[3].ok());
  EXPECT_TRUE(a[3]->already_recorded);
  EXPECT_THAT(a[3]->positions, ElementsAre(3));
  EXPECT_EQ(a[4].status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(a[5].status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(a[6].ok()) << a[6].status();
  EXPECT_THAT(a[6]->positions, ElementsAre(4, 5));

  const std::vector<StoredEvent> x = AllStored(**grouped);
  const std::vector<StoredEvent> y = AllStored(**single);
  ASSERT_EQ(x.size(), 5u);
  ASSERT_EQ(y.size(), 5u);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].stored, y[i].stored) << "position " << i + 1;
    EXPECT_EQ(x[i].chain_hash, y[i].chain_hash) << "position " << i + 1;
  }
  EXPECT_EQ((*grouped)->GetTreeHead().root, (*single)->GetTreeHead().root);
  EXPECT_EQ((*grouped)->AppliedSequence(), 7u);
  EXPECT_EQ((*single)->AppliedSequence(), 7u);

  // Recorded when the log of record took each append, never earlier than
  // the event before.
  absl::StatusOr<v1::RecordedEvent> first = (*grouped)->GetEventAt(1);
  absl::StatusOr<v1::RecordedEvent> last = (*grouped)->GetEventAt(5);
  ASSERT_TRUE(first.ok() && last.ok());
  EXPECT_EQ(first->recorded_at().seconds(), absl::ToUnixSeconds(kStart) + 1);
  EXPECT_EQ(last->recorded_at().seconds(), absl::ToUnixSeconds(kStart) + 3);
}

TEST(ReplicaTest, StreamStateCountsRefusedAppendsAndSurvivesReopen) {
  ScratchDir dir;
  {
    absl::StatusOr<std::unique_ptr<ReplicaLog>> log =
        OpenRocksReplica(dir.path(), LogOptions(), kOfRecord);
    ASSERT_TRUE(log.ok()) << log.status();
    Apply(log->get(), History(), false);
  }
  absl::StatusOr<std::unique_ptr<ReplicaLog>> log =
      OpenRocksReplica(dir.path(), LogOptions(), kOfRecord);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->AppliedSequence(), 7u);
  absl::StatusOr<ReplicaStream> jpn = (*log)->StreamState("JPN-PRK");
  ASSERT_TRUE(jpn.ok()) << jpn.status();
  EXPECT_EQ(jpn->version, 3u);
  EXPECT_EQ(jpn->last_sequence, 4u);  // the retry named it last
  EXPECT_EQ(jpn->applied, 7u);
  absl::StatusOr<ReplicaStream> none = (*log)->StreamState("USA-PRK");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->version, 0u);
  EXPECT_EQ(none->last_sequence, 0u);

  // The next append must be sequence 8; the log stays as it was.
  CommittedAppend early;
  early.sequence = 9;
  early.recorded_at = kStart;
  early.batch = MakeBatch("USA-PRK", ExpectedVersion::Any(), {MakeEvent("e")});
  std::vector<CommittedAppend> out_of_order;
  out_of_order.push_back(std::move(early));
  const auto answers = Apply(log->get(), std::move(out_of_order), true);
  EXPECT_EQ(answers[0].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(answers[0].status().message(), HasSubstr("out of order"));
  EXPECT_EQ((*log)->AppliedSequence(), 7u);
  EXPECT_EQ((*log)->GetHead().position, 5u);
}

TEST(ReplicaTest, EmbeddedLogsAndReplicasRefuseEachOthersDirectories) {
  ScratchDir dir;
  {
    absl::StatusOr<std::unique_ptr<EventLog>> embedded =
        OpenRocksEventLog(dir.Sub("embedded"), LogOptions());
    ASSERT_TRUE(embedded.ok());
    ASSERT_TRUE((*embedded)
                    ->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                       {MakeEvent("a")}))
                    .ok());
    absl::StatusOr<std::unique_ptr<ReplicaLog>> replica =
        OpenRocksReplica(dir.Sub("replica"), LogOptions(), kOfRecord);
    ASSERT_TRUE(replica.ok());
    absl::StatusOr<AppendResult> direct = (*replica)->Append(
        MakeBatch("JPN-PRK", ExpectedVersion::Any(), {MakeEvent("a")}));
    EXPECT_EQ(direct.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  absl::StatusOr<std::unique_ptr<ReplicaLog>> as_replica =
      OpenRocksReplica(dir.Sub("embedded"), LogOptions(), kOfRecord);
  EXPECT_EQ(as_replica.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(as_replica.status().message(), HasSubstr("embedded log of 1"));
  absl::StatusOr<std::unique_ptr<EventLog>> as_embedded =
      OpenRocksEventLog(dir.Sub("replica"), LogOptions());
  EXPECT_EQ(as_embedded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(as_embedded.status().message(), HasSubstr(kOfRecord));
  absl::StatusOr<std::unique_ptr<ReplicaLog>> other =
      OpenRocksReplica(dir.Sub("replica"), LogOptions(), "jetstream:OTHER");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace annals::storage
