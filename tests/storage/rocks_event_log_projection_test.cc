// The RocksDB event log's projections (storage/projector.h): written in
// the same WriteBatch as the events, checked, rebuilt and repaired.
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/status_macros.h"
#include "tests/storage/rocks_event_log_fixture.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::GroupHarness;
using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::Positions;
using ::annals::storage::testing::RawDb;
using ::annals::storage::testing::RocksEventLogTest;
using ::annals::storage::testing::kJpnPrk;
using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

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
