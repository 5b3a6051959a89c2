// The projection overlay (rocks_projection_overlay.h): the merge of staged
// entries with the database's in scan order, the writer's ProjectionCache,
// and OverlayContext's reads and writes.

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/projector.h"
#include "storage/rocks_internal.h"
#include "storage/rocks_projection_overlay.h"

namespace annals::storage {
namespace {

// Bytes of relationship records and entries the writer keeps in memory
// (ProjectionCache).
constexpr size_t kMaxCachedProjectionBytes = 16 << 20;

}  // namespace

void ProjectionCache::Remember(absl::string_view key,
                               std::optional<std::string> value) {
  auto it = entries_.find(key);
  const size_t old = it == entries_.end() ? 0 : SizeOf(it->first, it->second);
  const size_t size = SizeOf(key, value);
  if (bytes_ - old + size > kMaxCachedProjectionBytes) {
    Clear();
    it = entries_.end();
  } else {
    bytes_ -= old;
  }
  if (it == entries_.end()) {
    entries_.emplace(std::string(key), std::move(value));
  } else {
    it->second = std::move(value);  // most are updates: no new key
  }
  bytes_ += size;
}

rocksdb::Status StagedProjections::WriteTo(
    const std::array<rocksdb::ColumnFamilyHandle*, 2>& handles,
    rocksdb::WriteBatch* batch) const {
  for (size_t i = 0; i < 2; ++i) {
    for (const auto& [key, value] : entries_[i]) {
      rocksdb::Status s = value.has_value()
                              ? batch->Put(handles[i], ToSlice(key),
                                           ToSlice(*value))
                              : batch->Delete(handles[i], ToSlice(key));
      if (!s.ok()) return s;
    }
  }
  return rocksdb::Status::OK();
}

absl::Status StagedProjections::ScanUntil(
    ProjectionFamily family, rocksdb::Iterator* base, absl::string_view prefix,
    ProjectionContext::Order order,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  const Map& entries = Entries(family);
  const bool ascending = order == ProjectionContext::Order::kAscending;
  const std::string end = PrefixEnd(prefix);
  auto in_prefix = [&](absl::string_view key) {
    return absl::StartsWith(key, prefix);
  };

  // Staged entries of the prefix, in scan order.
  Map::const_iterator lo = entries.lower_bound(prefix);
  Map::const_iterator hi =
      end.empty() ? entries.end() : entries.lower_bound(end);
  auto staged_next = ascending ? lo : hi;  // ascending: *it; descending: *prev
  auto staged_valid = [&] { return ascending ? staged_next != hi
                                             : staged_next != lo; };
  auto staged_entry = [&]() -> const Map::value_type& {
    return ascending ? *staged_next : *std::prev(staged_next);
  };
  auto staged_advance = [&] {
    if (ascending) {
      ++staged_next;
    } else {
      --staged_next;
    }
  };

  if (ascending) {
    base->Seek(ToSlice(prefix));
  } else {
    SeekToLastOf(base, prefix);
  }
  auto base_valid = [&] { return base->Valid() && in_prefix(ToView(base->key())); };
  auto base_advance = [&] {
    if (ascending) {
      base->Next();
    } else {
      base->Prev();
    }
  };

  while (true) {
    const bool have_base = base_valid();
    const bool have_staged = staged_valid();
    if (!have_base && !have_staged) break;
    // Which comes first in scan order; on equal keys the staged entry
    // replaces the committed one.
    int pick;  // <0 base, >0 staged, 0 both (same key)
    if (!have_staged) {
      pick = -1;
    } else if (!have_base) {
      pick = 1;
    } else {
      const int c = ToView(base->key()).compare(staged_entry().first);
      pick = c == 0 ? 0 : ((c < 0) == ascending ? -1 : 1);
    }
    if (pick < 0) {
      if (!visit(ToView(base->key()), ToView(base->value()))) break;
      base_advance();
      continue;
    }
    const Map::value_type& entry = staged_entry();
    if (pick == 0) base_advance();
    staged_advance();
    if (entry.second.has_value() && !visit(entry.first, *entry.second)) break;
  }
  return base->status().ok() ? absl::OkStatus()
                             : RocksError(base->status(), "scan a projection");
}

absl::StatusOr<std::string> OverlayContext::Get(ProjectionFamily family,
                                                absl::string_view key) {
  const std::optional<std::string>* known = staged_->Find(family, key);
  const bool cached = cache_ != nullptr &&
                      family == ProjectionFamily::kRelationships;
  if (known == nullptr && cached) known = cache_->Find(key);
  if (known == nullptr) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Family(family),
                                 ToSlice(key), &value);
    if (!s.ok() && !s.IsNotFound()) return RocksError(s, "read a projection");
    if (cached) {
      cache_->Remember(key, s.ok() ? std::optional<std::string>(value)
                                   : std::nullopt);
    }
    if (s.ok()) return value;
  } else if (known->has_value()) {
    return **known;
  }
  return absl::NotFoundError(absl::StrCat("no projection entry ", key));
}

absl::Status OverlayContext::Put(ProjectionFamily family,
                                 absl::string_view key,
                                 absl::string_view value) {
  staged_->Put(family, key, value);
  return absl::OkStatus();
}

absl::Status OverlayContext::Delete(ProjectionFamily family,
                                    absl::string_view key) {
  staged_->Delete(family, key);
  return absl::OkStatus();
}

absl::Status OverlayContext::WriteStaged() {
  rocksdb::Status s = staged_->WriteTo(families_, batch_);
  return s.ok() ? absl::OkStatus() : RocksError(s, "stage the projections");
}

absl::Status OverlayContext::Scan(
    ProjectionFamily family, absl::string_view prefix,
    const std::function<void(absl::string_view, absl::string_view)>& visit) {
  return ScanUntil(family, prefix, Order::kAscending,
                   [&visit](absl::string_view key, absl::string_view value) {
                     visit(key, value);
                     return true;
                   });
}

absl::Status OverlayContext::ScanUntil(
    ProjectionFamily family, absl::string_view prefix, Order order,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  PrefixBounds bounds(prefix);
  rocksdb::ReadOptions read;
  bounds.Apply(&read);
  std::unique_ptr<rocksdb::Iterator> base(
      db_->NewIterator(read, Family(family)));
  return staged_->ScanUntil(family, base.get(), prefix, order, visit);
}

}  // namespace annals::storage
