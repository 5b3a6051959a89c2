// Behaviour of the RocksDB event log (storage/event_log.h).
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/projector.h"
#include "storage/rocks_event_log.h"
#include "storage/status_macros.h"
#include "tests/storage/storage_faults.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::FailingWalFileSystem;
using ::annals::storage::testing::Fault;
using ::annals::storage::testing::Injected;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::MakeRetraction;
using ::annals::storage::testing::ScratchDir;
using ::annals::storage::testing::WalFileSystem;
using ::annals::storage::testing::WritableStates;
using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::string_view kJpnPrk = "JPN-PRK";
constexpr absl::string_view kPrkUsa = "PRK-USA";

std::vector<uint64_t> Positions(const ReadPage& page) {
  std::vector<uint64_t> positions;
  for (const auto& e : page.events) positions.push_back(e.position());
  return positions;
}

std::vector<uint64_t> Versions(const ReadPage& page) {
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
                  IsOk());
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
    EXPECT_THAT(log, IsOk());
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

// --- Appending ---

TEST_F(RocksEventLogTest, EmptyLogHasZeroHead) {
  Head head = log_->GetHead();
  EXPECT_EQ(head.position, 0u);
  EXPECT_EQ(head.hash, ZeroHash());
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(RocksEventLogTest, AppendAssignsGaplessPositionsAndStreamVersions) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult first,
      Append(kJpnPrk, ExpectedVersion::NoStream(),
             {MakeEvent("pyongyang-2002"), MakeEvent("declaration-2002")}));
  EXPECT_EQ(first.stream, kJpnPrk);
  EXPECT_THAT(first.positions, ElementsAre(1, 2));
  EXPECT_EQ(first.stream_version, 2u);
  EXPECT_EQ(first.head, 2u);
  EXPECT_FALSE(first.already_recorded);

  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult other,
      Append(kPrkUsa, ExpectedVersion::Any(), {MakeEvent("singapore-2018")}));
  EXPECT_THAT(other.positions, ElementsAre(3));
  EXPECT_EQ(other.stream_version, 1u);

  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult third,
      Append(kJpnPrk, ExpectedVersion::Exact(2), {MakeEvent("koizumi-2004")}));
  EXPECT_THAT(third.positions, ElementsAre(4));
  EXPECT_EQ(third.stream_version, 3u);
  EXPECT_EQ(third.head, 4u);
  EXPECT_EQ(log_->GetHead().position, 4u);
}

TEST_F(RocksEventLogTest, RecordedEventCarriesTheEnvelope) {
  const v1::Event event = MakeEvent("pyongyang-2002");
  AppendBatch batch = MakeBatch(kJpnPrk, ExpectedVersion::Any(), {event});
  batch.principal = "spiffe://annals/importer";
  ASSERT_THAT(log_->Append(std::move(batch)), IsOk());

  ANNALS_ASSERT_OK_AND_ASSIGN(v1::RecordedEvent recorded,
                              log_->GetEvent("pyongyang-2002"));
  EXPECT_TRUE(MessageDifferencer::Equals(recorded.event(), event));
  EXPECT_EQ(recorded.position(), 1u);
  EXPECT_EQ(recorded.stream(), kJpnPrk);
  EXPECT_EQ(recorded.stream_version(), 1u);
  EXPECT_EQ(recorded.principal(), "spiffe://annals/importer");
  EXPECT_GT(recorded.recorded_at().seconds(), 1600000000);
  EXPECT_EQ(recorded.hash(), log_->GetHead().hash);
  // The hash covers the RecordedEvent without its hash.
  v1::RecordedEvent unhashed = recorded;
  unhashed.clear_hash();
  EXPECT_EQ(recorded.hash(),
            ChainHash(ZeroHash(), unhashed.SerializeAsString()));
}

TEST_F(RocksEventLogTest, HashesChainAndRecordedAtNeverDecreases) {
  for (int i = 0; i < 6; ++i) {
    AppendEach(i % 2 ? kJpnPrk : kPrkUsa, {absl::StrCat("e", i)});
  }
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                              log_->ReadAll(0, Direction::kForward, 100));
  ASSERT_EQ(page.events.size(), 6u);
  std::string previous = ZeroHash();
  absl::Time last_recorded = absl::InfinitePast();
  for (const v1::RecordedEvent& e : page.events) {
    v1::RecordedEvent unhashed = e;
    unhashed.clear_hash();
    EXPECT_EQ(e.hash(), ChainHash(previous, unhashed.SerializeAsString()))
        << "position " << e.position();
    previous = e.hash();
    absl::Time recorded = absl::FromUnixSeconds(e.recorded_at().seconds()) +
                          absl::Nanoseconds(e.recorded_at().nanos());
    EXPECT_GE(recorded, last_recorded) << "position " << e.position();
    last_recorded = recorded;
  }
  EXPECT_EQ(log_->GetHead().hash, previous);
}

// --- Expected version ---

TEST_F(RocksEventLogTest, ExpectedVersionKinds) {
  // A stream that does not exist: no_stream, exact 0 and any pass.
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::StreamExists(),
                     {MakeEvent("a")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Exact(1), {MakeEvent("a")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::NoStream(), {MakeEvent("a")}),
              IsOk());
  EXPECT_THAT(Append(kPrkUsa, ExpectedVersion::Exact(0), {MakeEvent("b")}),
              IsOk());

  // JPN-PRK is at version 1.
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::NoStream(), {MakeEvent("c")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Exact(0), {MakeEvent("c")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Exact(2), {MakeEvent("c")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::StreamExists(),
                     {MakeEvent("c")}),
              IsOk());
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Exact(2), {MakeEvent("d")}),
              IsOk());
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("e")}),
              IsOk());
  EXPECT_EQ(log_->GetHead().position, 5u);
}

TEST_F(RocksEventLogTest, WrongExpectedVersionReportsTheCurrentVersion) {
  AppendEach(kJpnPrk, {"a", "b", "c"});
  absl::StatusOr<AppendResult> result =
      Append(kJpnPrk, ExpectedVersion::Exact(1), {MakeEvent("d")});
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(result.status(), &info)) << result.status();
  EXPECT_EQ(info.reason(), "WRONG_EXPECTED_VERSION");
  EXPECT_EQ(info.metadata().at("current_version"), "3");
  EXPECT_EQ(info.metadata().at("expected"), "1");
  EXPECT_EQ(info.metadata().at("stream"), kJpnPrk);
  EXPECT_EQ(log_->GetHead().position, 3u);
}

TEST(ExpectedVersionTest, ToString) {
  EXPECT_EQ(ExpectedVersion::Any().ToString(), "any");
  EXPECT_EQ(ExpectedVersion::NoStream().ToString(), "no_stream");
  EXPECT_EQ(ExpectedVersion::StreamExists().ToString(), "stream_exists");
  EXPECT_EQ(ExpectedVersion::Exact(42).ToString(), "42");
}

// --- Atomicity and groups ---

TEST_F(RocksEventLogTest, BatchWithAConflictingEventWritesNothing) {
  AppendEach(kJpnPrk, {"taken"});
  const Head before = log_->GetHead();
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeEvent("new-1"), MakeEvent("new-2"),
                      MakeEvent("taken", "Different content.")}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(log_->GetHead().position, before.position);
  EXPECT_EQ(log_->GetHead().hash, before.hash);
  EXPECT_THAT(log_->GetEvent("new-1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->GetEvent("new-2"), StatusIs(absl::StatusCode::kNotFound));
  ANNALS_ASSERT_OK_AND_ASSIGN(
      ReadPage stream, log_->ReadStream(kJpnPrk, 0, Direction::kForward, 10));
  EXPECT_EQ(stream.last, 1u);
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

// Appends a "warm-up" event, then holds the writer at its gate so that the
// appends queued until Run are decided and committed together as one group.
class GroupHarness {
 public:
  GroupHarness(EventLog* log, WriterGate* gate) : log_(log), gate_(gate) {
    EXPECT_THAT(log_->Append(MakeBatch("warm-up", ExpectedVersion::Any(),
                                       {MakeEvent("warm-up")})),
                IsOk());
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

TEST_F(RocksEventLogTest, FailingRequestInAGroupDoesNotStopTheOthers) {
  GroupHarness group(log_.get(), gate_.get());  // position 1
  group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::NoStream(),
                        {MakeEvent("x1"), MakeEvent("x2")}));
  // Sees JPN-PRK as created by the request before it in the same group.
  group.Queue(
      MakeBatch(kJpnPrk, ExpectedVersion::NoStream(), {MakeEvent("y")}));
  group.Queue(MakeBatch(kPrkUsa, ExpectedVersion::Any(), {MakeEvent("z")}));
  group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::Exact(2), {MakeEvent("w")}));
  const auto& results = group.Run();

  ASSERT_THAT(results[0], IsOk());
  EXPECT_THAT(results[0]->positions, ElementsAre(2, 3));
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(results[2], IsOk());
  EXPECT_THAT(results[2]->positions, ElementsAre(4));
  ASSERT_THAT(results[3], IsOk());
  EXPECT_THAT(results[3]->positions, ElementsAre(5));
  EXPECT_EQ(results[3]->stream_version, 3u);
  // Every successful request learns the head after the whole group.
  EXPECT_EQ(results[0]->head, 5u);
  EXPECT_EQ(results[3]->head, 5u);

  EXPECT_THAT(log_->GetEvent("y"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(log_->GetHead().position, 5u);
  // They were one commit: one recorded_at.
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::RecordedEvent x1, log_->GetEvent("x1"));
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::RecordedEvent w, log_->GetEvent("w"));
  EXPECT_TRUE(MessageDifferencer::Equals(x1.recorded_at(), w.recorded_at()));
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(RocksEventLogTest, RetryWithinTheSameGroupIsIdempotent) {
  GroupHarness group(log_.get(), gate_.get());  // position 1
  group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::NoStream(),
                        {MakeEvent("a"), MakeEvent("b")}));
  group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::NoStream(),
                        {MakeEvent("a"), MakeEvent("b")}));
  group.Queue(MakeBatch(kJpnPrk, ExpectedVersion::Any(),
                        {MakeEvent("b", "Changed before the first committed.")}));
  const auto& results = group.Run();
  ASSERT_THAT(results[0], IsOk());
  ASSERT_THAT(results[1], IsOk());
  EXPECT_FALSE(results[0]->already_recorded);
  EXPECT_TRUE(results[1]->already_recorded);
  EXPECT_EQ(results[1]->positions, results[0]->positions);
  EXPECT_EQ(results[1]->stream_version, 2u);
  EXPECT_THAT(results[2], StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(log_->GetHead().position, 3u);
}

// --- Idempotency ---

TEST_F(RocksEventLogTest, SameIdAndContentReturnsTheOriginalPositions) {
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult original,
      Append(kJpnPrk, ExpectedVersion::NoStream(),
             {MakeEvent("a"), MakeEvent("b")}));
  AppendEach(kJpnPrk, {"c"});
  const Head head = log_->GetHead();

  // A retry is not checked against the expected version (no_stream would
  // fail now): it is the same request, answered again.
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult retry, Append(kJpnPrk, ExpectedVersion::NoStream(),
                                 {MakeEvent("a"), MakeEvent("b")}));
  EXPECT_TRUE(retry.already_recorded);
  EXPECT_EQ(retry.positions, original.positions);
  EXPECT_EQ(retry.stream_version, 2u);
  EXPECT_EQ(retry.head, 3u);
  EXPECT_EQ(log_->GetHead().position, head.position);
  EXPECT_EQ(log_->GetHead().hash, head.hash);
}

TEST_F(RocksEventLogTest, SameIdWithOtherContentIsAlreadyExists) {
  AppendEach(kJpnPrk, {"a"});
  absl::StatusOr<AppendResult> result = Append(
      kJpnPrk, ExpectedVersion::Any(), {MakeEvent("a", "Something else.")});
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kAlreadyExists));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc::GetErrorInfo(result.status(), &info)) << result.status();
  EXPECT_EQ(info.reason(), "DUPLICATE_EVENT_ID");
  EXPECT_EQ(info.metadata().at("event_id"), "a");
  EXPECT_EQ(info.metadata().at("position"), "1");
  EXPECT_EQ(log_->GetHead().position, 1u);
}

TEST_F(RocksEventLogTest, PartlyRecordedBatchIsAlreadyExists) {
  AppendEach(kJpnPrk, {"a"});
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeEvent("a"), MakeEvent("b")}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("some")));
  EXPECT_THAT(log_->GetEvent("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(log_->GetHead().position, 1u);
}

TEST_F(RocksEventLogTest, SameIdInAnotherStreamIsAlreadyExists) {
  AppendEach(kJpnPrk, {"a"});
  EXPECT_THAT(Append(kPrkUsa, ExpectedVersion::Any(), {MakeEvent("a")}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(kJpnPrk)));
  EXPECT_EQ(log_->GetHead().position, 1u);
}

TEST_F(RocksEventLogTest, RepeatedIdWithinABatchIsRejected) {
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeEvent("a"), MakeEvent("a")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[1].id")));
  EXPECT_EQ(log_->GetHead().position, 0u);
}

// --- Corrections ---

TEST_F(RocksEventLogTest, CorrectionOfAMissingEventIsRejected) {
  EXPECT_THAT(
      Append(kJpnPrk, ExpectedVersion::Any(),
             {MakeEvent("a"), MakeRetraction("fix", "nowhere")}),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("events[1].correction.corrects_event_id")));
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(RocksEventLogTest, CorrectionOfACorrectionIsRejected) {
  AppendEach(kJpnPrk, {"a"});
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeRetraction("fix", "a")}),
              IsOk());
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeRetraction("fix-of-fix", "fix")}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("events[0].correction.corrects_event_id")));
  EXPECT_EQ(log_->GetHead().position, 2u);
}

TEST_F(RocksEventLogTest, CorrectionMayNameAnEarlierEventOfTheSameBatch) {
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeEvent("a"), MakeRetraction("fix", "a")}),
              IsOk());
  // But not a later one.
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(),
                     {MakeRetraction("fix-2", "b"), MakeEvent("b")}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("events[0].correction.corrects_event_id")));
  EXPECT_EQ(log_->GetHead().position, 2u);
}

// --- Reads ---

TEST_F(RocksEventLogTest, ReadAllPagesForward) {
  AppendEach(kJpnPrk, {"1", "2", "3", "4", "5"});
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                              log_->ReadAll(0, Direction::kForward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(1, 2));
  EXPECT_EQ(page.next, 3u);
  EXPECT_FALSE(page.end);
  EXPECT_EQ(page.last, 5u);
  ANNALS_ASSERT_OK_AND_ASSIGN(page,
                              log_->ReadAll(page.next, Direction::kForward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(3, 4));
  ANNALS_ASSERT_OK_AND_ASSIGN(page,
                              log_->ReadAll(page.next, Direction::kForward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(5));
  EXPECT_EQ(page.next, 6u);
  EXPECT_TRUE(page.end);
  for (const auto& e : page.events) EXPECT_EQ(e.hash().size(), 32u);

  ANNALS_ASSERT_OK_AND_ASSIGN(page, log_->ReadAll(9, Direction::kForward, 2));
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.next, 9u);
  EXPECT_TRUE(page.end);
}

TEST_F(RocksEventLogTest, ReadAllPagesBackward) {
  AppendEach(kJpnPrk, {"1", "2", "3", "4", "5"});
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                              log_->ReadAll(0, Direction::kBackward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(5, 4));
  EXPECT_EQ(page.next, 3u);
  EXPECT_FALSE(page.end);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadAll(page.next, Direction::kBackward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(3, 2));
  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadAll(page.next, Direction::kBackward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(1));
  EXPECT_EQ(page.next, 0u);
  EXPECT_TRUE(page.end);
  // Beyond the head reads from the head.
  ANNALS_ASSERT_OK_AND_ASSIGN(page, log_->ReadAll(99, Direction::kBackward, 1));
  EXPECT_THAT(Positions(page), ElementsAre(5));
}

TEST_F(RocksEventLogTest, PagesStopAtTheirByteBudget) {
  options_.max_page_bytes = 100 << 10;
  Reopen();
  // Ten events of ~30 KB: three fit a page of 100 KiB, a fourth would not.
  std::vector<v1::Event> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(MakeEvent(absl::StrCat("big-", i), std::string(30000, 'x')));
  }
  ASSERT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), events), IsOk());

  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage all,
                              log_->ReadAll(0, Direction::kForward, 1000));
  EXPECT_EQ(all.events.size(), 3u);
  EXPECT_EQ(all.next, 4u);
  EXPECT_FALSE(all.end);
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage back,
                              log_->ReadAll(0, Direction::kBackward, 1000));
  EXPECT_EQ(back.events.size(), 3u);
  EXPECT_EQ(back.next, 7u);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      ReadPage stream, log_->ReadStream(kJpnPrk, 0, Direction::kForward, 1000));
  EXPECT_EQ(stream.events.size(), 3u);
  EXPECT_EQ(stream.next, 4u);
  EXPECT_FALSE(stream.end);
  ANNALS_ASSERT_OK_AND_ASSIGN(std::vector<StoredEvent> stored,
                              log_->ReadStored(1, 1000));
  EXPECT_EQ(stored.size(), 3u);

  // An event larger than the budget still comes, alone.
  options_.max_page_bytes = 1000;
  Reopen();
  ANNALS_ASSERT_OK_AND_ASSIGN(all, log_->ReadAll(0, Direction::kForward, 1000));
  EXPECT_EQ(all.events.size(), 1u);
  EXPECT_EQ(all.next, 2u);
}

TEST_F(RocksEventLogTest, ReadAllOfAnEmptyLog) {
  ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                              log_->ReadAll(0, Direction::kForward, 10));
  EXPECT_TRUE(page.events.empty());
  EXPECT_TRUE(page.end);
  EXPECT_EQ(page.last, 0u);
  ANNALS_ASSERT_OK_AND_ASSIGN(page, log_->ReadAll(0, Direction::kBackward, 10));
  EXPECT_TRUE(page.events.empty());
  EXPECT_TRUE(page.end);
  EXPECT_EQ(page.next, 0u);
}

TEST_F(RocksEventLogTest, ZeroLimitIsInvalidArgument) {
  EXPECT_THAT(log_->ReadAll(0, Direction::kForward, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ReadStream(kJpnPrk, 0, Direction::kForward, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RocksEventLogTest, ReadStreamPagesThroughOneStreamOnly) {
  // Interleaved: JPN-PRK holds positions 1, 3, 5, 7; PRK-USA 2, 4, 6.
  for (int i = 1; i <= 7; ++i) {
    AppendEach(i % 2 ? kJpnPrk : kPrkUsa, {absl::StrCat("e", i)});
  }
  // A stream whose name is a prefix of another's must not see its events.
  AppendEach("JPN-PR", {"prefix"});

  ANNALS_ASSERT_OK_AND_ASSIGN(
      ReadPage page, log_->ReadStream(kJpnPrk, 0, Direction::kForward, 3));
  EXPECT_THAT(Positions(page), ElementsAre(1, 3, 5));
  EXPECT_THAT(Versions(page), ElementsAre(1, 2, 3));
  EXPECT_EQ(page.next, 4u);
  EXPECT_FALSE(page.end);
  EXPECT_EQ(page.last, 4u);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadStream(kJpnPrk, page.next, Direction::kForward, 3));
  EXPECT_THAT(Positions(page), ElementsAre(7));
  EXPECT_EQ(page.next, 5u);
  EXPECT_TRUE(page.end);

  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadStream(kPrkUsa, 0, Direction::kBackward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(6, 4));
  EXPECT_THAT(Versions(page), ElementsAre(3, 2));
  EXPECT_EQ(page.next, 1u);
  EXPECT_FALSE(page.end);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadStream(kPrkUsa, page.next, Direction::kBackward, 2));
  EXPECT_THAT(Positions(page), ElementsAre(2));
  EXPECT_EQ(page.next, 0u);
  EXPECT_TRUE(page.end);

  ANNALS_ASSERT_OK_AND_ASSIGN(
      page, log_->ReadStream("JPN-PR", 0, Direction::kBackward, 10));
  EXPECT_THAT(Positions(page), ElementsAre(8));
  EXPECT_EQ(page.last, 1u);
}

TEST_F(RocksEventLogTest, MissingStreamReadsAsEmpty) {
  AppendEach(kJpnPrk, {"a"});
  for (Direction d : {Direction::kForward, Direction::kBackward}) {
    ANNALS_ASSERT_OK_AND_ASSIGN(ReadPage page,
                                log_->ReadStream("RUS-PRK", 0, d, 10));
    EXPECT_TRUE(page.events.empty());
    EXPECT_TRUE(page.end);
    EXPECT_EQ(page.last, 0u);
  }
}

TEST_F(RocksEventLogTest, GetEventOfUnknownIdIsNotFound) {
  AppendEach(kJpnPrk, {"a"});
  EXPECT_THAT(log_->GetEvent("b"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"b\"")));
}

// --- Lifecycle ---

TEST_F(RocksEventLogTest, ReopenKeepsHeadHashAndEvents) {
  AppendEach(kJpnPrk, {"a", "b"});
  AppendEach(kPrkUsa, {"c"});
  const Head before = log_->GetHead();
  Reopen();
  const Head after = log_->GetHead();
  EXPECT_EQ(after.position, 3u);
  EXPECT_EQ(after.hash, before.hash);
  ANNALS_ASSERT_OK_AND_ASSIGN(v1::RecordedEvent b, log_->GetEvent("b"));
  EXPECT_EQ(b.position(), 2u);
  EXPECT_EQ(b.stream_version(), 2u);
  // Appending continues the log and the stream.
  ANNALS_ASSERT_OK_AND_ASSIGN(
      AppendResult next,
      Append(kJpnPrk, ExpectedVersion::Exact(2), {MakeEvent("d")}));
  EXPECT_THAT(next.positions, ElementsAre(4));
  EXPECT_EQ(next.stream_version, 3u);
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

TEST_F(RocksEventLogTest, AppendAfterCloseIsUnavailable) {
  AppendEach(kJpnPrk, {"a"});
  log_->Close();
  log_->Close();  // idempotent
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("b")}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("closed")));
  Reopen();
  EXPECT_EQ(log_->GetHead().position, 1u);
}

TEST_F(RocksEventLogTest, CloseCommitsWhatIsAlreadyQueued) {
  constexpr int kAppends = 200;
  std::atomic<int> ok{0};
  std::atomic<int> answered{0};
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync(
        MakeBatch(kJpnPrk, ExpectedVersion::Any(),
                  {MakeEvent(absl::StrCat("q", i))}),
        [&](absl::StatusOr<AppendResult> result) {
          if (result.ok()) ++ok;
          ++answered;
        });
  }
  log_->Close();
  EXPECT_EQ(answered.load(), kAppends);
  EXPECT_EQ(ok.load(), kAppends);
  Reopen();
  EXPECT_EQ(log_->GetHead().position, static_cast<uint64_t>(kAppends));
}

// on_commit sees every written event once, in position order, exactly as
// ReadAll returns it, and never an idempotent retry or a failed append.
TEST_F(RocksEventLogTest, OnCommitSeesEveryWrittenEventOnceInOrder) {
  absl::Mutex mu;
  std::vector<v1::RecordedEvent> seen;
  std::vector<uint64_t> heads;
  options_.on_commit = [&](const std::vector<const v1::RecordedEvent*>& events,
                           const Head& head) {
    absl::MutexLock lock(&mu);
    for (const v1::RecordedEvent* e : events) seen.push_back(*e);
    heads.push_back(head.position);
  };
  Reopen();
  constexpr int kAppends = 50;
  std::atomic<int> answered{0};
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync(MakeBatch(kJpnPrk, ExpectedVersion::Any(),
                                {MakeEvent(absl::StrCat("c", i))}),
                      [&](absl::StatusOr<AppendResult>) { ++answered; });
  }
  // A retry and a failing append write nothing and are not reported.
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::Any(), {MakeEvent("c0")}),
              IsOk());
  EXPECT_THAT(Append(kJpnPrk, ExpectedVersion::NoStream(), {MakeEvent("x")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  log_->Close();
  ASSERT_EQ(answered.load(), kAppends);

  Reopen();
  auto page = log_->ReadAll(0, Direction::kForward, 1000);
  ASSERT_THAT(page.status(), IsOk());
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), page->events.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(seen[i], page->events[i]))
        << "position " << i + 1;
  }
  EXPECT_TRUE(std::is_sorted(heads.begin(), heads.end()));
  EXPECT_EQ(heads.back(), static_cast<uint64_t>(kAppends));
}

TEST_F(RocksEventLogTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  EXPECT_THAT(OpenRocksEventLog(path_, options_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("lock")));
}

TEST(RocksEventLogOpenTest, MissingDatabaseWithoutCreateIsUnavailable) {
  ScratchDir dir;
  LogOptions options;
  options.create_if_missing = false;
  EXPECT_THAT(OpenRocksEventLog(dir.Sub("none"), options),
              StatusIs(absl::StatusCode::kUnavailable));
}

// --- Concurrency ---

TEST_F(RocksEventLogTest, ConcurrentExactVersionWritersNeverShareAVersion) {
  constexpr int kThreads = 8;
  constexpr uint64_t kVersions = 120;
  struct Outcome {
    std::vector<uint64_t> won;  // stream versions this thread wrote
    int lost = 0;
    std::vector<std::string> unexpected;
  };
  std::vector<Outcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Outcome& out = outcomes[t];
      for (int k = 0;; ++k) {
        absl::StatusOr<ReadPage> page =
            log_->ReadStream(kJpnPrk, 0, Direction::kBackward, 1);
        if (!page.ok()) {
          out.unexpected.push_back(page.status().ToString());
          return;
        }
        const uint64_t v = page->last;
        if (v >= kVersions) return;
        absl::StatusOr<AppendResult> result =
            log_->Append(MakeBatch(kJpnPrk, ExpectedVersion::Exact(v),
                                   {MakeEvent(absl::StrCat("t", t, "-", k))}));
        if (result.ok()) {
          if (result->stream_version != v + 1) {
            out.unexpected.push_back(
                absl::StrCat("expected ", v, " but wrote version ",
                             result->stream_version));
          }
          out.won.push_back(result->stream_version);
        } else if (result.status().code() ==
                   absl::StatusCode::kFailedPrecondition) {
          ++out.lost;
        } else {
          out.unexpected.push_back(result.status().ToString());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<uint64_t> won;
  int lost = 0;
  for (const Outcome& out : outcomes) {
    EXPECT_THAT(out.unexpected, ::testing::IsEmpty());
    won.insert(won.end(), out.won.begin(), out.won.end());
    lost += out.lost;
  }
  std::sort(won.begin(), won.end());
  std::vector<uint64_t> expected(kVersions);
  for (uint64_t v = 0; v < kVersions; ++v) expected[v] = v + 1;
  EXPECT_EQ(won, expected);  // exactly one winner per version, no gaps
  EXPECT_GT(lost, 0) << "the writers never raced; the test proves nothing";

  ANNALS_ASSERT_OK_AND_ASSIGN(
      ReadPage all, log_->ReadAll(0, Direction::kForward, kVersions + 10));
  ASSERT_EQ(all.events.size(), kVersions);
  for (uint64_t i = 0; i < kVersions; ++i) {
    EXPECT_EQ(all.events[i].position(), i + 1);
    EXPECT_EQ(all.events[i].stream_version(), i + 1);
  }
  EXPECT_THAT(log_->VerifyChain(), IsOk());
}

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

// --- Projections in the same WriteBatch ---

// Counts events per stream in `relationships` (reading its own earlier puts
// of the group through the context) and lists each event in
// `dyad_timeline` under "stream/position".
class CountingProjector : public Projector {
 public:
  std::string Version() const override { return version; }

  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       ProjectionContext* context) override {
    if (fail) return absl::InternalError("projector told to fail");
    for (const v1::RecordedEvent* event : events) {
      int count = 0;
      auto current = context->Get(ProjectionFamily::kRelationships, event->stream());
      if (current.ok()) {
        EXPECT_TRUE(absl::SimpleAtoi(*current, &count));
      } else if (!absl::IsNotFound(current.status())) {
        return current.status();
      }
      RETURN_IF_ERROR(context->Put(ProjectionFamily::kRelationships,
                                   event->stream(), absl::StrCat(count + step)));
      // The staged event is readable by position, as the projector got it.
      ASSIGN_OR_RETURN(v1::RecordedEvent at, context->EventAt(event->position()));
      EXPECT_EQ(at.event().id(), event->event().id());
      RETURN_IF_ERROR(context->Put(
          ProjectionFamily::kDyadTimeline,
          absl::StrCat(event->stream(), "/", event->position()), event->event().id()));
      int listed = 0;
      RETURN_IF_ERROR(context->Scan(
          ProjectionFamily::kDyadTimeline, absl::StrCat(event->stream(), "/"),
          [&listed](absl::string_view, absl::string_view) { ++listed; }));
      EXPECT_EQ(listed, count / step + 1) << "scan sees the group's own puts";
    }
    return absl::OkStatus();
  }
  void RebuildStarting() override {
    if (on_rebuild) on_rebuild("starting");
  }
  void RebuildEnded() override {
    if (on_rebuild) on_rebuild("ended");
  }

  bool fail = false;
  int step = 1;  // what each event adds to its stream's count
  std::string version = "counting/1";
  std::function<void(absl::string_view)> on_rebuild;
};

class ProjectedLogTest : public RocksEventLogTest {
 protected:
  ProjectedLogTest() { options_.projector = &projector_; }

  std::string Projection(ProjectionFamily family, absl::string_view key) {
    auto value = log_->ReadProjection(family, key);
    return value.ok() ? *value : std::string(value.status().message());
  }

  CountingProjector projector_;
};

TEST_F(ProjectedLogTest, ProjectionIsWrittenWithTheEventsEvenWithinOneGroup) {
  {
    GroupHarness group(log_.get(), gate_.get());  // "warm-up" at position 1, its own group
    for (int i = 0; i < 5; ++i) {
      group.Queue(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                            {MakeEvent(absl::StrCat("e", i))}));
    }
    for (const auto& result : group.Run()) EXPECT_THAT(result, IsOk());
  }
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "5");
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "warm-up"), "1");

  std::vector<std::string> listed;
  ANNALS_ASSERT_OK(log_->ScanProjection(
      ProjectionFamily::kDyadTimeline, "JPN-PRK/", "JPN-PRK/4",
      Direction::kForward, [&listed](absl::string_view key, absl::string_view value) {
        listed.push_back(absl::StrCat(key, "=", value));
        return listed.size() < 2;
      }));
  EXPECT_THAT(listed, ElementsAre("JPN-PRK/4=e2", "JPN-PRK/5=e3"));

  listed.clear();
  ANNALS_ASSERT_OK(log_->ScanProjection(
      ProjectionFamily::kDyadTimeline, "JPN-PRK/", "", Direction::kBackward,
      [&listed](absl::string_view key, absl::string_view value) {
        listed.push_back(absl::StrCat(key, "=", value));
        return listed.size() < 2;
      }));
  EXPECT_THAT(listed, ElementsAre("JPN-PRK/6=e4", "JPN-PRK/5=e3"));
  listed.clear();
  ANNALS_ASSERT_OK(log_->ScanProjection(
      ProjectionFamily::kDyadTimeline, "JPN-PRK/", "JPN-PRK/3",
      Direction::kBackward,
      [&listed](absl::string_view key, absl::string_view value) {
        listed.push_back(absl::StrCat(key, "=", value));
        return true;
      }));
  EXPECT_THAT(listed, ElementsAre("JPN-PRK/3=e1", "JPN-PRK/2=e0"));

  Reopen();
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "5");
}

TEST_F(ProjectedLogTest, FailingProjectionWritesNothingAndTheLogGoesOn) {
  AppendEach("JPN-PRK", {"a"});
  projector_.fail = true;
  EXPECT_THAT(Append("JPN-PRK", ExpectedVersion::Any(), {MakeEvent("b")}),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(log_->GetHead().position, 1u);
  EXPECT_THAT(log_->GetEvent("b"), StatusIs(absl::StatusCode::kNotFound));

  projector_.fail = false;
  ASSERT_THAT(Append("JPN-PRK", ExpectedVersion::Exact(1), {MakeEvent("b")}),
              IsOk());
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "2");
  ANNALS_EXPECT_OK(log_->VerifyChain());
}

TEST_F(ProjectedLogTest, GetEventAtReadsOnePosition) {
  AppendEach("JPN-PRK", {"a", "b"});
  auto at = log_->GetEventAt(2);
  ASSERT_THAT(at.status(), IsOk());
  EXPECT_EQ(at->event().id(), "b");
  EXPECT_EQ(at->hash(), log_->GetHead().hash);
  EXPECT_THAT(log_->GetEventAt(0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->GetEventAt(3), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ProjectedLogTest, GetEventsAtReadsPositionsInTheOrderAsked) {
  AppendEach("JPN-PRK", {"a", "b", "c"});
  auto events = log_->GetEventsAt({3, 1, 3, 2});
  ASSERT_THAT(events.status(), IsOk());
  std::vector<std::string> ids;
  for (const v1::RecordedEvent& e : *events) ids.push_back(e.event().id());
  EXPECT_THAT(ids, ::testing::ElementsAre("c", "a", "c", "b"));
  EXPECT_EQ(events->front().hash(), log_->GetHead().hash);
  EXPECT_EQ((*events)[1].position(), 1u);
  auto none = log_->GetEventsAt({});
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_TRUE(none->empty());
  EXPECT_THAT(log_->GetEventsAt({1, 4}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->GetEventsAt({0}), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ProjectedLogTest, RebuildOfAnUntouchedProjectionMatches) {
  AppendEach("JPN-PRK", {"a", "b"});
  AppendEach("PRK-USA", {"c"});
  auto report = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference;
  EXPECT_EQ(report->events, 3u);
  EXPECT_EQ(report->keys, 5u);  // 2 counts + 3 listings
  EXPECT_FALSE(report->repaired);
}

TEST_F(ProjectedLogTest, RebuildFindsAndRepairsAChangedProjection) {
  AppendEach("JPN-PRK", {"a", "b"});
  log_.reset();
  {
    RawDb raw(path_);
    raw.Put(format::ColumnFamily::kRelationships, "JPN-PRK", "7");
    raw.Put(format::ColumnFamily::kRelationships, "ghost", "1");
    raw.Delete(format::ColumnFamily::kDyadTimeline, "JPN-PRK/1");
  }
  Open();
  auto check = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(check.status(), IsOk());
  EXPECT_FALSE(check->matched());
  EXPECT_EQ(check->different, 1u);
  EXPECT_EQ(check->unexpected, 1u);
  EXPECT_EQ(check->missing, 1u);
  EXPECT_THAT(check->first_difference,
              HasSubstr("dyad_timeline \"JPN-PRK/1\" (recomputed but not stored)"));
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "7");

  auto repair = log_->RebuildProjections(/*repair=*/true);
  ASSERT_THAT(repair.status(), IsOk());
  EXPECT_TRUE(repair->repaired);
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "2");
  EXPECT_THAT(log_->ReadProjection(ProjectionFamily::kRelationships, "ghost"),
              StatusIs(absl::StatusCode::kNotFound));
  auto again = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_TRUE(again->matched()) << again->first_difference;
  // Appends go on after a rebuild.
  AppendEach("JPN-PRK", {"c"});
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "3");
}

TEST_F(ProjectedLogTest, AppendsAfterARepairBuildOnTheRepairedProjection) {
  AppendEach("JPN-PRK", {"a", "b"});
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "2");
  // The projector now computes something else (as a fixed projector would):
  // the repair stores its result, and later appends start from that, not
  // from what the writer wrote before the repair.
  projector_.step = 2;
  auto repair = log_->RebuildProjections(/*repair=*/true);
  ASSERT_THAT(repair.status(), IsOk());
  EXPECT_TRUE(repair->repaired);
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "4");
  AppendEach("JPN-PRK", {"c"});
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "6");
  auto check = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(check.status(), IsOk());
  EXPECT_TRUE(check->matched()) << check->first_difference;
}

// A projector that keeps what it derives from the stored projections
// (RelationshipAnswers) drops it around a rebuild: it is told before the
// repair rewrites anything, and again once readers see what it wrote.
TEST_F(ProjectedLogTest, CheckRunsBesideAppends) {
  AppendEach("JPN-PRK", {"a", "b"});
  // The writer is held with an append in hand.
  gate_->Close();
  absl::Notification appended;
  log_->AppendAsync(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                              {MakeEvent("c")}),
                    [&](absl::StatusOr<AppendResult> result) {
                      EXPECT_THAT(result, IsOk());
                      appended.Notify();
                    });
  absl::Notification checked;
  absl::StatusOr<RebuildReport> report;
  std::thread check([&] {
    report = log_->RebuildProjections(/*repair=*/false);
    checked.Notify();
  });
  // The check does not wait for the writer, nor the writer for the check.
  EXPECT_TRUE(checked.WaitForNotificationWithTimeout(absl::Seconds(10)));
  gate_->Open();
  check.join();
  appended.WaitForNotification();
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->matched()) << report->first_difference;
  EXPECT_EQ(report->events, 2u);  // the snapshot it started from
  EXPECT_FALSE(report->repaired);
}

TEST_F(ProjectedLogTest, TheProjectorHearsOfARebuildBeforeAndAfter) {
  AppendEach("JPN-PRK", {"a", "b"});
  std::vector<std::string> heard;
  projector_.on_rebuild = [&](absl::string_view when) {
    heard.push_back(absl::StrCat(
        when, ": ", Projection(ProjectionFamily::kRelationships, "JPN-PRK")));
  };
  projector_.step = 2;
  auto repair = log_->RebuildProjections(/*repair=*/true);
  ASSERT_THAT(repair.status(), IsOk());
  EXPECT_TRUE(repair->repaired);
  EXPECT_THAT(heard, ElementsAre("starting: 2", "ended: 4"));
}

TEST_F(ProjectedLogTest, AppendsWithoutAProjectorAreProjectedOnTheNextOpen) {
  AppendEach("JPN-PRK", {"a"});
  options_.projector = nullptr;
  Reopen();
  AppendEach("JPN-PRK", {"b", "c"});
  EXPECT_THAT(log_->RebuildProjections(false),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  options_.projector = &projector_;
  Reopen();
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "3");
}

TEST_F(ProjectedLogTest, AnotherProjectorVersionRebuildsOnOpen) {
  AppendEach("JPN-PRK", {"a", "b"});
  log_.reset();
  {
    RawDb raw(path_);
    raw.Put(format::ColumnFamily::kRelationships, "JPN-PRK", "9");
  }
  Open();  // same version: what is stored is trusted
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "9");
  EXPECT_FALSE(log_->RebuiltOnOpen().has_value());
  projector_.version = "counting/2";
  Reopen();
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "2");
  ASSERT_TRUE(log_->RebuiltOnOpen().has_value());
  EXPECT_EQ(log_->RebuiltOnOpen()->events, 2u);
  EXPECT_TRUE(log_->RebuiltOnOpen()->repaired);
}

// Queues `n` appends of one event each; `ok` counts those that succeed.
void QueueAppends(EventLog* log, int n, std::atomic<int>* ok) {
  for (int i = 0; i < n; ++i) {
    log->AppendAsync(MakeBatch(kJpnPrk, ExpectedVersion::Any(),
                               {MakeEvent(absl::StrCat("r", i))}),
                     [ok](absl::StatusOr<AppendResult> r) { *ok += r.ok(); });
  }
}

TEST_F(ProjectedLogTest, RepairWaitsForAppendsQueuedBeforeIt) {
  std::atomic<int> ok{0};
  QueueAppends(log_.get(), 100, &ok);
  auto report = log_->RebuildProjections(/*repair=*/true);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_EQ(report->events, 100u);
  EXPECT_TRUE(report->matched()) << report->first_difference;
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(ProjectedLogTest, CheckAmidAppendsMatchesTheSnapshotItRead) {
  std::atomic<int> ok{0};
  QueueAppends(log_.get(), 1000, &ok);
  auto report = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_LE(report->events, 1000u);
  EXPECT_TRUE(report->matched()) << report->first_difference;
  log_->Close();  // answers everything queued
  EXPECT_EQ(ok.load(), 1000);
}

TEST_F(ProjectedLogTest, RebuildLeavesNoScratchDatabaseBehind) {
  AppendEach("JPN-PRK", {"a", "b"});
  const std::string scratch = path_ + "/projection-rebuild";
  auto report = log_->RebuildProjections(/*repair=*/true);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(rocksdb::Env::Default()->FileExists(scratch).IsNotFound());

  // A rebuild cut short (a crash) leaves one: the next open removes it.
  log_.reset();
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, scratch, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "Rghost", "1").ok());
    delete db;
  }
  ASSERT_TRUE(rocksdb::Env::Default()->FileExists(scratch).ok());
  Open();
  EXPECT_TRUE(rocksdb::Env::Default()->FileExists(scratch).IsNotFound());
  EXPECT_EQ(Projection(ProjectionFamily::kRelationships, "JPN-PRK"), "2");
  auto again = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_TRUE(again->matched()) << again->first_difference;
}

// Lists each event under "stream/NNN" and "stream\xff..." keys, and keeps
// per stream what ScanUntil returns: the first entry ascending, the last two
// descending, and the last key under a prefix that ends in 0xff.
class ScanningProjector : public Projector {
 public:
  std::string Version() const override { return "scanning/1"; }

  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       ProjectionContext* context) override {
    using Order = ProjectionContext::Order;
    for (const v1::RecordedEvent* event : events) {
      const std::string& stream = event->stream();
      const std::string& id = event->event().id();
      RETURN_IF_ERROR(context->Put(
          ProjectionFamily::kDyadTimeline,
          absl::StrFormat("%s/%03d", stream, event->position()), id));
      RETURN_IF_ERROR(context->Put(ProjectionFamily::kDyadTimeline,
                                   absl::StrCat(stream, "\xff", id), id));
      std::vector<std::string> seen;
      // Visits `n` entries, then stops.
      auto take = [&seen](size_t n) {
        return [&seen, n, taken = size_t{0}](absl::string_view,
                                             absl::string_view value) mutable {
          seen.emplace_back(value);
          return ++taken < n;
        };
      };
      RETURN_IF_ERROR(context->ScanUntil(ProjectionFamily::kDyadTimeline,
                                         absl::StrCat(stream, "/"),
                                         Order::kAscending, take(1)));
      RETURN_IF_ERROR(context->ScanUntil(ProjectionFamily::kDyadTimeline,
                                         absl::StrCat(stream, "/"),
                                         Order::kDescending, take(3)));
      RETURN_IF_ERROR(context->ScanUntil(ProjectionFamily::kDyadTimeline,
                                         absl::StrCat(stream, "\xff"),
                                         Order::kDescending, take(4)));
      RETURN_IF_ERROR(context->Put(ProjectionFamily::kRelationships, stream,
                                   absl::StrJoin(seen, ",")));
    }
    return absl::OkStatus();
  }
};

TEST_F(RocksEventLogTest, ScanUntilStopsWhereToldInEitherOrderDuringAppendsAndRebuilds) {
  ScanningProjector projector;
  options_.projector = &projector;
  Reopen();
  AppendEach("JPN-PRK", {"a"});
  AppendEach("JPN-PRL", {"z"});
  // One group: each event's scans see the puts of those before it.
  ASSERT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                     {MakeEvent("c"), MakeEvent("b"),
                                      MakeEvent("d")})),
              IsOk());
  // Positions: a 1, z 2, c 3, b 4, d 5. The "JPN-PRL" keys, right after
  // every "JPN-PRK\xff" key, are never visited.
  auto value = log_->ReadProjection(ProjectionFamily::kRelationships, "JPN-PRK");
  ASSERT_THAT(value.status(), IsOk());
  EXPECT_EQ(*value, "a,d,b,c,d,c,b,a");
  auto rebuilt = log_->RebuildProjections(/*repair=*/false);
  ASSERT_THAT(rebuilt.status(), IsOk());
  EXPECT_TRUE(rebuilt->matched()) << rebuilt->first_difference;
}

}  // namespace
}  // namespace annals::storage
