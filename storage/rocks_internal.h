// Small helpers that the RocksDB event log's files (storage/rocks_*.cc)
// share: RocksDB statuses as absl ones, string views as slices and back, and
// prefix scans that stay within their prefix. Private to the log: nothing
// outside storage/rocks_*.cc includes this.
#ifndef ANNALS_STORAGE_ROCKS_INTERNAL_H_
#define ANNALS_STORAGE_ROCKS_INTERNAL_H_

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "storage/event_log.h"
#include "storage/merkle.h"

namespace annals::storage {

// UNAVAILABLE "event log storage failed to <what>: <RocksDB's status>".
inline absl::Status RocksError(const rocksdb::Status& s,
                               absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("event log storage failed to ", what, ": ", s.ToString()));
}

// DATA_LOSS "event log is corrupt: <detail>".
inline absl::Status Corrupt(absl::string_view detail) {
  return absl::DataLossError(absl::StrCat("event log is corrupt: ", detail));
}

inline rocksdb::Slice ToSlice(absl::string_view s) {
  return {s.data(), s.size()};
}
inline absl::string_view ToView(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

// The first key after every key that starts with `prefix`: the prefix with
// its last byte below 0xff incremented and the rest dropped; "" when there
// is none (an empty prefix, or one of 0xff bytes only).
inline std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (!end.empty()) {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  }
  return end;
}

// Bounds for the iterators of a prefix scan: they never step past the
// prefix's keys, nor over the deleted entries beyond them.
class PrefixBounds {
 public:
  explicit PrefixBounds(absl::string_view prefix)
      : lower_(prefix), upper_(PrefixEnd(prefix)) {}
  PrefixBounds(const PrefixBounds&) = delete;
  PrefixBounds& operator=(const PrefixBounds&) = delete;

  // `read` must not outlive this.
  void Apply(rocksdb::ReadOptions* read) {
    lower_slice_ = rocksdb::Slice(lower_);
    read->iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) {  // else to the family's end
      upper_slice_ = rocksdb::Slice(upper_);
      read->iterate_upper_bound = &upper_slice_;
    }
  }

 private:
  const std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
};

// Positions `it` on the last key that starts with `prefix`, or on a key
// before them all when there is none.
inline void SeekToLastOf(rocksdb::Iterator* it, absl::string_view prefix) {
  const std::string end = PrefixEnd(prefix);
  if (end.empty()) {
    it->SeekToLast();
    return;
  }
  it->SeekForPrev(ToSlice(end));
  if (it->Valid() && ToView(it->key()) == end) it->Prev();
}

// ReadOptions::readahead_size of a read of consecutive events: one read of
// the table file for a page's blocks. Without it each 4 KiB block is a
// pread of its own (RocksDB's automatic readahead of a buffered file only
// advises the kernel), a syscall that cost more than decompressing the
// block.
inline constexpr size_t kEventsReadahead = 256 << 10;

// A read page's byte budget (LogOptions::max_page_bytes): the first event
// always fits, each later one only while the page stays within it.
class PageBudget {
 public:
  explicit PageBudget(size_t max_bytes) : left_(max_bytes) {}
  // Takes `bytes` for one more event; false (taking nothing) when the page
  // is full.
  bool Take(size_t bytes) {
    if (any_ && bytes > left_) return false;
    left_ -= std::min(bytes, left_);
    any_ = true;
    return true;
  }

 private:
  size_t left_;
  bool any_ = false;
};

// The head in the meta family `meta` of `db`, as `read` sees it; DATA_LOSS
// when it is missing or malformed. Defined in rocks_reads.cc.
absl::StatusOr<Head> ReadHeadOf(rocksdb::DB* db,
                                rocksdb::ColumnFamilyHandle* meta,
                                const rocksdb::ReadOptions& read);

// Walks `events`, an iterator over the events family not yet positioned,
// from its first key, and checks the log against `head` (meta's): every
// position from 1 to head.position is there in order and nothing beyond
// it, each stored hash is SHA-256(the previous one || its stored bytes),
// and the last one is head.hash. With `tree` (an empty frontier), adds
// each position's leaf to it too. DATA_LOSS naming the first position that
// does not check. Defined in rocks_audit.cc.
absl::Status CheckChain(rocksdb::Iterator* events, const Head& head,
                        merkle::Frontier* tree);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_INTERNAL_H_
