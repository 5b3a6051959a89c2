// The Merkle tree the RocksDB log keeps at commit: it matches a tree built
// from the stored bytes, its proofs verify, it survives reopening, and a
// log written without it gets it built on open.
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/merkle.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using testing::MakeBatch;
using testing::MakeEvent;
using testing::MakeRetraction;
using testing::ScratchDir;

class LogMerkleTest : public ::testing::Test {
 protected:
  void Open() {
    LogOptions options;
    options.sync = false;
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        OpenRocksEventLog(dir_.path(), options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
  }
  void SetUp() override { Open(); }

  // Appends `count` events in batches of `per_batch`.
  void AppendEvents(int count, int per_batch) {
    for (int i = 0; i < count; i += per_batch) {
      std::vector<v1::Event> events;
      for (int j = i; j < count && j < i + per_batch; ++j) {
        events.push_back(MakeEvent(absl::StrCat("e", next_id_++)));
      }
      ASSERT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                         std::move(events))),
                  IsOk());
    }
  }

  // The roots of every size 0..head, from the stored bytes alone.
  std::vector<std::string> RootsFromStoredBytes() {
    std::vector<std::string> roots(1, merkle::EmptyRoot());
    merkle::Frontier frontier;
    absl::StatusOr<std::vector<StoredEvent>> stored = log_->ReadStored(1, 1 << 20);
    EXPECT_THAT(stored, IsOk());
    for (const StoredEvent& event : *stored) {
      merkle::Append(&frontier, merkle::LeafHash(event.stored),
                     [](const merkle::CompletedNode&) {});
      roots.push_back(merkle::RootOf(frontier));
    }
    return roots;
  }

  // Every root, inclusion proof and consistency proof of the log checks
  // against the roots recomputed from the stored bytes.
  void ExpectTreeMatchesStoredBytes() {
    const std::vector<std::string> roots = RootsFromStoredBytes();
    const TreeHead head = log_->GetTreeHead();
    ASSERT_EQ(head.size, log_->GetHead().position);
    ASSERT_EQ(head.size + 1, roots.size());
    EXPECT_EQ(head.root, roots.back());
    absl::StatusOr<std::vector<StoredEvent>> stored = log_->ReadStored(1, 1 << 20);
    ASSERT_THAT(stored, IsOk());
    for (uint64_t size = 1; size <= head.size; ++size) {
      absl::StatusOr<std::string> root = log_->RootAt(size);
      ASSERT_THAT(root, IsOk());
      EXPECT_EQ(*root, roots[size]) << size;
      absl::StatusOr<std::vector<std::string>> consistency =
          log_->ProveConsistency(size, head.size);
      ASSERT_THAT(consistency, IsOk());
      EXPECT_THAT(merkle::VerifyConsistency(size, head.size, roots[size],
                                            head.root, *consistency),
                  IsOk())
          << size;
      absl::StatusOr<std::vector<std::string>> inclusion =
          log_->ProveInclusion(size, head.size);
      ASSERT_THAT(inclusion, IsOk());
      EXPECT_THAT(merkle::VerifyInclusion(
                      merkle::LeafHash((*stored)[size - 1].stored), size - 1,
                      head.size, *inclusion, head.root),
                  IsOk())
          << size;
    }
  }

  ScratchDir dir_;
  std::unique_ptr<EventLog> log_;
  int next_id_ = 0;
};

TEST_F(LogMerkleTest, EmptyLogHasTheEmptyRoot) {
  EXPECT_EQ(log_->GetTreeHead().size, 0u);
  EXPECT_EQ(log_->GetTreeHead().root, merkle::EmptyRoot());
}

TEST_F(LogMerkleTest, TreeKeptAtCommitMatchesTheStoredBytes) {
  AppendEvents(1, 1);
  AppendEvents(36, 5);
  AppendEvents(20, 1);
  ExpectTreeMatchesStoredBytes();
}

TEST_F(LogMerkleTest, ConcurrentGroupsKeepTheTreeRight) {
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([this, w] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_THAT(log_->Append(MakeBatch(
                        "JPN-PRK", ExpectedVersion::Any(),
                        {MakeEvent(absl::StrCat("w", w, "-", i))})),
                    IsOk());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ExpectTreeMatchesStoredBytes();
}

TEST_F(LogMerkleTest, ReopenedLogKeepsItsRootsAndGoesOn) {
  AppendEvents(23, 4);
  const TreeHead before = log_->GetTreeHead();
  log_.reset();
  Open();
  EXPECT_EQ(log_->GetTreeHead().size, before.size);
  EXPECT_EQ(log_->GetTreeHead().root, before.root);
  AppendEvents(18, 3);
  ExpectTreeMatchesStoredBytes();
  absl::StatusOr<std::string> old_root = log_->RootAt(before.size);
  ASSERT_THAT(old_root, IsOk());
  EXPECT_EQ(*old_root, before.root);
}

TEST_F(LogMerkleTest, LogWrittenWithoutTheTreeGetsItOnOpen) {
  AppendEvents(2, 1);
  ASSERT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                     {MakeRetraction("fix-e0", "e0")})),
              IsOk());
  AppendEvents(27, 6);
  const TreeHead before = log_->GetTreeHead();
  log_.reset();
  {
    // Remove every trace of the tree and the correction entries, as a
    // database written before they existed would be.
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (absl::string_view name : format::kColumnFamilyNames) {
      descriptors.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), descriptors,
                                  &handles, &raw)
                    .ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto* merkle_cf = handles[static_cast<int>(format::ColumnFamily::kMerkle)];
    auto* meta_cf = handles[static_cast<int>(format::ColumnFamily::kMeta)];
    auto* ids_cf = handles[static_cast<int>(format::ColumnFamily::kEventIds)];
    EXPECT_TRUE(db->DeleteRange(rocksdb::WriteOptions(), merkle_cf,
                                std::string(1, '\0'), std::string(1, '\x7f'))
                    .ok());
    EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), meta_cf,
                           std::string(format::kMetaMerkleFrontier))
                    .ok());
    EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), ids_cf,
                           format::CorrectionKey("e0", 3))
                    .ok());
    for (auto* handle : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  Open();
  EXPECT_EQ(log_->GetTreeHead().root, before.root);
  ExpectTreeMatchesStoredBytes();
  absl::StatusOr<std::vector<uint64_t>> corrections = log_->CorrectionsOf("e0");
  ASSERT_THAT(corrections, IsOk());
  EXPECT_THAT(*corrections, ::testing::ElementsAre(3u));
}

TEST_F(LogMerkleTest, CorrectionsOfListsEveryCorrectionInPositionOrder) {
  AppendEvents(3, 1);  // e0 e1 e2
  ASSERT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                     {MakeRetraction("fix-1", "e1")})),
              IsOk());
  AppendEvents(1, 1);
  ASSERT_THAT(log_->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                     {MakeRetraction("fix-2", "e1")})),
              IsOk());
  EXPECT_THAT(*log_->CorrectionsOf("e1"), ::testing::ElementsAre(4u, 6u));
  EXPECT_THAT(*log_->CorrectionsOf("e0"), ::testing::IsEmpty());
  EXPECT_THAT(*log_->CorrectionsOf("e"), ::testing::IsEmpty());
  EXPECT_THAT(*log_->CorrectionsOf("nope"), ::testing::IsEmpty());
}

TEST_F(LogMerkleTest, ProofsBeyondTheHeadAreInvalid) {
  AppendEvents(5, 5);
  EXPECT_THAT(log_->ProveInclusion(1, 6),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveInclusion(0, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveInclusion(6, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveConsistency(0, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveConsistency(4, 3),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveConsistency(2, 6),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->RootAt(6), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace annals::storage
