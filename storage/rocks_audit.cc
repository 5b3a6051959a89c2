// Verifiable history in the RocksDB event log (rocks_event_log_impl.h,
// storage/merkle.h). At commit, and in recovery, StageTreeAndCorrection adds
// each event to the Merkle frontier and puts into the batch the subtrees it
// completes and its correction entry. MerkleNode reads a subtree back (or
// hashes the events below the first stored level) for RootAt and the
// inclusion and consistency proofs. CorrectionsOf reads the correction
// index, ReadStored exports positions exactly as stored, and VerifyChain
// recomputes the whole hash chain (CheckChain, which also checks a restored
// backup: rocks_backup.cc); these three read the published snapshot, as the
// reads of rocks_reads.cc do. The proofs go no further than the published
// tree head.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/merkle.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/status_macros.h"

namespace annals::storage {

using format::ColumnFamily;

rocksdb::Status RocksEventLog::StageTreeAndCorrection(
    absl::string_view stored, const v1::Event& event, uint64_t position,
    merkle::Frontier* frontier, rocksdb::WriteBatch* batch) const {
  rocksdb::Status s;
  merkle::Append(frontier, merkle::LeafHash(stored),
                 [&](const merkle::CompletedNode& node) {
                   if (s.ok() && node.level >= format::kMerkleFirstStoredLevel) {
                     s = batch->Put(Cf(ColumnFamily::kMerkle),
                                    format::MerkleKey(node.level, node.index),
                                    node.hash);
                   }
                 });
  if (s.ok() && event.has_correction()) {
    s = batch->Put(Cf(ColumnFamily::kEventIds),
                   format::CorrectionKey(event.correction().corrects_event_id(),
                                         position),
                   rocksdb::Slice());
  }
  return s;
}

absl::StatusOr<std::string> RocksEventLog::MerkleNode(int level,
                                                      uint64_t index) const {
  if (level < format::kMerkleFirstStoredLevel) {
    // Not stored: hash the subtree's events (leaf i is position i + 1).
    const uint64_t first = (index << level) + 1;
    const uint64_t count = uint64_t{1} << level;
    std::vector<std::string> hashes;
    hashes.reserve(count);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), Cf(ColumnFamily::kEvents)));
    uint64_t position = first;
    for (it->Seek(format::EventKey(first));
         it->Valid() && position < first + count; it->Next(), ++position) {
      uint64_t found = 0;
      absl::string_view hash, stored;
      if (!format::ParseEventKey(ToView(it->key()), &found) ||
          found != position ||
          !format::ParseEventValue(ToView(it->value()), &hash, &stored)) {
        break;
      }
      hashes.push_back(merkle::LeafHash(stored));
    }
    if (!it->status().ok()) return RocksError(it->status(), "read events");
    if (hashes.size() != count) {
      return Corrupt(absl::StrCat("merkle node (level ", level, ", index ",
                                  index, "): position ", position,
                                  " is missing"));
    }
    for (; hashes.size() > 1;) {
      std::vector<std::string> up;
      for (size_t i = 0; i + 1 < hashes.size(); i += 2) {
        up.push_back(merkle::NodeHash(hashes[i], hashes[i + 1]));
      }
      hashes = std::move(up);
    }
    return std::move(hashes[0]);
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Cf(ColumnFamily::kMerkle),
                               format::MerkleKey(level, index), &value);
  if (s.IsNotFound()) {
    return Corrupt(absl::StrCat("merkle node (level ", level, ", index ",
                                index, ") is missing"));
  }
  if (!s.ok()) return RocksError(s, "read the merkle tree");
  if (value.size() != format::kHashSize) {
    return Corrupt(absl::StrCat("merkle node (level ", level, ", index ",
                                index, ") is not 32 bytes"));
  }
  return value;
}

absl::StatusOr<std::string> RocksEventLog::RootAt(uint64_t size) const {
  const TreeHead head = GetTreeHead();
  if (size > head.size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", size, " is beyond the head ", head.size));
  }
  if (size == head.size) return head.root;
  return merkle::RootAt(size, [this](int level, uint64_t index) {
    return MerkleNode(level, index);
  });
}

absl::StatusOr<std::vector<std::string>> RocksEventLog::ProveInclusion(
    uint64_t position, uint64_t tree_size) const {
  const uint64_t head = GetTreeHead().size;
  if (tree_size > head) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", tree_size, " is beyond the head ", head));
  }
  if (position == 0 || position > tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position ", position, " is not in the tree of size ", tree_size));
  }
  return merkle::InclusionProof(
      position - 1, tree_size,
      [this](int level, uint64_t index) { return MerkleNode(level, index); });
}

absl::StatusOr<std::vector<std::string>> RocksEventLog::ProveConsistency(
    uint64_t old_size, uint64_t new_size) const {
  const uint64_t head = GetTreeHead().size;
  if (new_size > head) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", new_size, " is beyond the head ", head));
  }
  return merkle::ConsistencyProof(
      old_size, new_size,
      [this](int level, uint64_t index) { return MerkleNode(level, index); });
}

absl::StatusOr<std::vector<StoredEvent>> RocksEventLog::ReadStored(
    uint64_t from, size_t limit) const {
  if (from == 0 || limit == 0) {
    return absl::InvalidArgumentError("ReadStored needs from >= 1, limit >= 1");
  }
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  read.fill_cache = false;
  read.readahead_size = kEventsReadahead;
  ASSIGN_OR_RETURN(const Head head, ReadMetaHead(read));
  std::vector<StoredEvent> out;
  if (from > head.position) return out;
  const uint64_t last = std::min<uint64_t>(head.position, from + limit - 1);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
  uint64_t expected = from;
  PageBudget budget(options_.max_page_bytes);
  for (it->Seek(format::EventKey(from)); it->Valid() && expected <= last;
       it->Next(), ++expected) {
    if (!budget.Take(it->value().size())) return out;  // full, by bytes
    uint64_t position = 0;
    absl::string_view hash, stored;
    if (!format::ParseEventKey(ToView(it->key()), &position) ||
        position != expected ||
        !format::ParseEventValue(ToView(it->value()), &hash, &stored)) {
      return Corrupt(absl::StrCat("position ", expected, " is missing"));
    }
    out.push_back({position, std::string(hash), std::string(stored)});
  }
  if (!it->status().ok()) return RocksError(it->status(), "read events");
  if (expected <= last) {
    return Corrupt(absl::StrCat("position ", expected, " is missing"));
  }
  return out;
}

absl::StatusOr<std::vector<uint64_t>> RocksEventLog::CorrectionsOf(
    absl::string_view id) const {
  const std::string prefix = format::CorrectionPrefix(id);
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEventIds)));
  std::vector<uint64_t> positions;
  for (it->Seek(prefix);
       it->Valid() && absl::StartsWith(ToView(it->key()), prefix); it->Next()) {
    const absl::string_view key = ToView(it->key());
    if (key.size() != prefix.size() + 8) continue;  // a longer id
    positions.push_back(format::DecodeBigEndian64(key.data() + prefix.size()));
  }
  if (!it->status().ok()) return RocksError(it->status(), "read event ids");
  return positions;
}

absl::Status CheckChain(rocksdb::Iterator* events, const Head& head,
                        merkle::Frontier* tree) {
  std::string previous = ZeroHash();
  uint64_t expected = 1;
  for (events->SeekToFirst(); events->Valid(); events->Next(), ++expected) {
    uint64_t position = 0;
    if (!format::ParseEventKey(ToView(events->key()), &position)) {
      return Corrupt(absl::StrCat("malformed events key after position ",
                                  expected - 1));
    }
    if (position > head.position) {
      return Corrupt(absl::StrCat("position ", position,
                                  " exists beyond the head position ",
                                  head.position, " in meta"));
    }
    if (position != expected) {
      return Corrupt(absl::StrCat("position ", expected, " is missing"));
    }
    absl::string_view hash, stored;
    if (!format::ParseEventValue(ToView(events->value()), &hash, &stored)) {
      return Corrupt(absl::StrCat("value of position ", position,
                                  " is truncated"));
    }
    std::string recomputed = ChainHash(previous, stored);
    if (recomputed != hash) {
      return Corrupt(absl::StrCat(
          "hash of position ", position, " does not match SHA-256(hash of "
          "position ", position - 1, " || its stored bytes)"));
    }
    previous = std::move(recomputed);
    if (tree != nullptr) {
      merkle::Append(tree, merkle::LeafHash(stored),
                     [](const merkle::CompletedNode&) {});
    }
  }
  if (!events->status().ok()) {
    return RocksError(events->status(), "read events");
  }
  if (expected - 1 != head.position) {
    return Corrupt(absl::StrCat("position ", expected, " is missing (head is ",
                                head.position, ")"));
  }
  if (previous != head.hash) {
    return Corrupt(absl::StrCat("hash of position ", head.position,
                                " does not match the head hash in meta"));
  }
  return absl::OkStatus();
}

absl::Status RocksEventLog::VerifyChain() const {
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  read.fill_cache = false;  // a full scan would evict the working set
  ASSIGN_OR_RETURN(const Head head, ReadMetaHead(read));
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
  return CheckChain(it.get(), head, /*tree=*/nullptr);
}

}  // namespace annals::storage
