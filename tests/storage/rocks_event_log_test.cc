// Behaviour of the RocksDB event log (storage/event_log.h): appends,
// expected versions, groups, idempotency, corrections, reads, lifecycle and
// concurrent writers.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "storage/event_log.h"
#include "storage/hash_chain.h"
#include "storage/rocks_event_log.h"
#include "storage/status_macros.h"
#include "tests/storage/rocks_event_log_fixture.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::GroupHarness;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::MakeRetraction;
using ::annals::storage::testing::Positions;
using ::annals::storage::testing::RocksEventLogTest;
using ::annals::storage::testing::ScratchDir;
using ::annals::storage::testing::Versions;
using ::annals::storage::testing::WriterGate;
using ::annals::storage::testing::kJpnPrk;
using ::annals::storage::testing::kPrkUsa;
using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

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


}  // namespace
}  // namespace annals::storage
