// The RocksDB event log's reads (rocks_event_log_impl.h). The EventLog
// reads (ReadAll, ReadStream, GetEvent, GetEventAt(s), ReadProjection,
// ScanProjection) read the snapshot the syncer published last
// (ReadSnapshot): they never wait for the writer and never see a commit
// that is not durable. GetHead and GetTreeHead copy the published heads.
// The helpers they build on serve the writer, recovery, the rebuild and the
// audit reads too: ReadMetaHead, ReadStreamVersion and ReadEventAt read on
// the ReadOptions they are given, DecodeEvent decodes what was read, and
// PositionOf reads the latest state unless given a snapshot (the writer
// and the rebuild read the latest).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/event.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/snapshot.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/status_macros.h"

namespace annals::storage {

using format::ColumnFamily;

absl::StatusOr<Head> ReadHeadOf(rocksdb::DB* db,
                                rocksdb::ColumnFamilyHandle* meta,
                                const rocksdb::ReadOptions& read) {
  std::string position, hash;
  rocksdb::Status s =
      db->Get(read, meta, ToSlice(format::kMetaHeadPosition), &position);
  if (s.ok()) s = db->Get(read, meta, ToSlice(format::kMetaHeadHash), &hash);
  if (s.IsNotFound()) return Corrupt("meta has no head");
  if (!s.ok()) return RocksError(s, "read meta");
  Head head;
  if (!format::ParseBigEndian64(position, &head.position) ||
      hash.size() != format::kHashSize) {
    return Corrupt("meta's head is malformed");
  }
  head.hash = std::move(hash);
  return head;
}

absl::StatusOr<Head> RocksEventLog::ReadMetaHead(
    const rocksdb::ReadOptions& read) const {
  return ReadHeadOf(db_.get(), Cf(ColumnFamily::kMeta), read);
}

absl::StatusOr<uint64_t> RocksEventLog::ReadStreamVersion(
    const rocksdb::ReadOptions& read, absl::string_view stream) const {
  // The last key <= stream || 0x00 || FF*8 is the stream's last version,
  // when the stream exists.
  const std::string prefix = format::StreamPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kStreams)));
  it->SeekForPrev(
      format::StreamKey(stream, std::numeric_limits<uint64_t>::max()));
  if (!it->Valid()) {
    if (!it->status().ok()) return RocksError(it->status(), "read streams");
    return 0;
  }
  const absl::string_view key = ToView(it->key());
  if (key.size() != prefix.size() + 8 || !absl::StartsWith(key, prefix)) {
    return 0;  // another stream's key: names hold no 0x00 (format.h)
  }
  return format::DecodeBigEndian64(key.data() + prefix.size());
}

absl::StatusOr<ReplicaStream> RocksEventLog::StreamState(
    absl::string_view stream) const {
  ReplicaStream state;
  rocksdb::ReadOptions read;
  std::shared_ptr<const rocksdb::Snapshot> snapshot;
  {
    absl::MutexLock lock(&head_mu_);
    state.applied = applied_sequence_;
    snapshot = read_latest_ ? nullptr : read_snapshot_;
  }
  read.snapshot = snapshot.get();
  ASSIGN_OR_RETURN(state.version, ReadStreamVersion(read, stream));
  std::string value;
  rocksdb::Status s = db_->Get(read, Cf(ColumnFamily::kMeta),
                               format::StreamSequenceKey(stream), &value);
  if (s.ok()) {
    if (!format::ParseBigEndian64(value, &state.last_sequence)) {
      return Corrupt(absl::StrCat("the sequence of stream ", stream,
                                  " is not 8 bytes"));
    }
  } else if (!s.IsNotFound()) {
    return RocksError(s, "read meta");
  }
  return state;
}

absl::Status RocksEventLog::DecodeEvent(const rocksdb::Slice& key,
                                        const rocksdb::Slice& value,
                                        uint64_t position,
                                        v1::RecordedEvent* event) {
  uint64_t found = 0;
  if (!format::ParseEventKey(ToView(key), &found) || found != position) {
    return Corrupt(absl::StrCat("position ", position, " is missing"));
  }
  absl::string_view hash, stored;
  if (!format::ParseEventValue(ToView(value), &hash, &stored) ||
      !event->ParseFromArray(stored.data(), static_cast<int>(stored.size())) ||
      event->position() != position) {
    return Corrupt(absl::StrCat("stored bytes of position ", position,
                                " are not its RecordedEvent"));
  }
  event->set_hash(std::string(hash));
  return absl::OkStatus();
}

absl::StatusOr<v1::RecordedEvent> RocksEventLog::ReadEventAt(
    const rocksdb::ReadOptions& read, uint64_t position) const {
  const std::string key = format::EventKey(position);
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(read, Cf(ColumnFamily::kEvents), key, &value);
  if (s.IsNotFound()) {
    return Corrupt(absl::StrCat("position ", position, " is missing"));
  }
  if (!s.ok()) return RocksError(s, "read events");
  v1::RecordedEvent event;
  RETURN_IF_ERROR(DecodeEvent(key, value, position, &event));
  return event;
}

absl::StatusOr<std::optional<uint64_t>> RocksEventLog::FindPosition(
    absl::string_view id, const rocksdb::ReadOptions& read) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(read, Cf(ColumnFamily::kEventIds), ToSlice(id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return RocksError(s, "read event ids");
  uint64_t position = 0;
  if (!format::ParseBigEndian64(value, &position)) {
    return Corrupt(absl::StrCat("position of event id \"", id,
                                "\" is not 8 bytes"));
  }
  return position;
}

absl::StatusOr<uint64_t> RocksEventLog::PositionOf(
    absl::string_view id, const rocksdb::ReadOptions& read) const {
  ASSIGN_OR_RETURN(const std::optional<uint64_t> position,
                   FindPosition(id, read));
  if (!position.has_value()) {
    return absl::NotFoundError(absl::StrCat("event \"", id, "\" not found"));
  }
  return *position;
}

absl::StatusOr<ReadPage> RocksEventLog::ReadAll(uint64_t from,
                                                Direction direction,
                                                size_t limit) const {
  if (limit == 0) return absl::InvalidArgumentError("limit: must be at least 1");
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  ASSIGN_OR_RETURN(const Head head, ReadMetaHead(read));
  ReadPage page;
  page.last = head.position;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kEvents)));
  PageBudget budget(options_.max_page_bytes);
  bool full = false;  // by bytes
  if (direction == Direction::kForward) {
    uint64_t position = from == 0 ? 1 : from;
    if (position <= head.position) it->Seek(format::EventKey(position));
    while (position <= head.position && page.events.size() < limit) {
      if (!it->Valid()) break;
      if (!budget.Take(it->value().size())) {
        full = true;
        break;
      }
      RETURN_IF_ERROR(DecodeEvent(it->key(), it->value(), position,
                                  &page.events.emplace_back()));
      ++position;
      it->Next();
    }
    if (!it->status().ok()) return RocksError(it->status(), "read events");
    if (position <= head.position && page.events.size() < limit && !full) {
      return Corrupt(absl::StrCat("position ", position, " is missing"));
    }
    page.next = position;
    page.end = position > head.position;
  } else {
    uint64_t position =
        (from == 0 || from > head.position) ? head.position : from;
    if (position > 0) it->SeekForPrev(format::EventKey(position));
    while (position > 0 && page.events.size() < limit) {
      if (!it->Valid()) break;
      if (!budget.Take(it->value().size())) {
        full = true;
        break;
      }
      RETURN_IF_ERROR(DecodeEvent(it->key(), it->value(), position,
                                  &page.events.emplace_back()));
      --position;
      it->Prev();
    }
    if (!it->status().ok()) return RocksError(it->status(), "read events");
    if (position > 0 && page.events.size() < limit && !full) {
      return Corrupt(absl::StrCat("position ", position, " is missing"));
    }
    page.next = position;
    page.end = position == 0;
  }
  return page;
}

absl::StatusOr<ReadPage> RocksEventLog::ReadStream(absl::string_view stream,
                                                   uint64_t from,
                                                   Direction direction,
                                                   size_t limit) const {
  if (limit == 0) return absl::InvalidArgumentError("limit: must be at least 1");
  if (stream.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("stream: must contain no NUL byte");
  }
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  ASSIGN_OR_RETURN(const uint64_t last, ReadStreamVersion(read, stream));
  ReadPage page;
  page.last = last;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kStreams)));
  PageBudget budget(options_.max_page_bytes);
  bool full = false;  // by bytes
  // Reads the entry under `it`, expected to be `version` of the stream,
  // into the page unless the page is full (`full`).
  auto read_entry = [&](uint64_t version) -> absl::Status {
    absl::string_view name;
    uint64_t found = 0;
    uint64_t position = 0;
    if (!it->Valid() ||
        !format::ParseStreamKey(ToView(it->key()), &name, &found) ||
        name != stream || found != version ||
        !format::ParseBigEndian64(ToView(it->value()), &position)) {
      if (!it->status().ok()) return RocksError(it->status(), "read streams");
      return Corrupt(absl::StrCat("version ", version, " of stream ", stream,
                                  " is missing"));
    }
    ASSIGN_OR_RETURN(v1::RecordedEvent event, ReadEventAt(read, position));
    full = !budget.Take(event.ByteSizeLong());
    if (!full) page.events.push_back(std::move(event));
    return absl::OkStatus();
  };
  if (direction == Direction::kForward) {
    uint64_t version = from == 0 ? 1 : from;
    if (version <= last) it->Seek(format::StreamKey(stream, version));
    while (version <= last && page.events.size() < limit) {
      RETURN_IF_ERROR(read_entry(version));
      if (full) break;
      ++version;
      it->Next();
    }
    page.next = version;
    page.end = version > last;
  } else {
    uint64_t version = (from == 0 || from > last) ? last : from;
    if (version > 0) it->SeekForPrev(format::StreamKey(stream, version));
    while (version > 0 && page.events.size() < limit) {
      RETURN_IF_ERROR(read_entry(version));
      if (full) break;
      --version;
      it->Prev();
    }
    page.next = version;
    page.end = version == 0;
  }
  if (!it->status().ok()) return RocksError(it->status(), "read streams");
  return page;
}

absl::StatusOr<std::string> RocksEventLog::ReadProjection(
    ProjectionFamily family, absl::string_view key) const {
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  std::string value;
  rocksdb::Status s = db_->Get(read, ProjectionCf(family),
                               ToSlice(key), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no projection entry ", key));
  }
  if (!s.ok()) return RocksError(s, "read a projection");
  return value;
}

absl::Status RocksEventLog::ScanProjection(
    ProjectionFamily family, absl::string_view prefix, absl::string_view start,
    Direction direction,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  PrefixBounds bounds(prefix);
  bounds.Apply(&read);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, ProjectionCf(family)));
  if (direction == Direction::kForward) {
    for (it->Seek(ToSlice(std::max(prefix, start)));
         it->Valid() && absl::StartsWith(ToView(it->key()), prefix);
         it->Next()) {
      if (!visit(ToView(it->key()), ToView(it->value()))) break;
    }
  } else {
    if (!start.empty()) {
      it->SeekForPrev(ToSlice(start));
    } else {
      SeekToLastOf(it.get(), prefix);
    }
    for (; it->Valid() && absl::StartsWith(ToView(it->key()), prefix);
         it->Prev()) {
      if (!visit(ToView(it->key()), ToView(it->value()))) break;
    }
  }
  return it->status().ok() ? absl::OkStatus()
                           : RocksError(it->status(), "scan a projection");
}

absl::Status RocksEventLog::ScanCache(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  rocksdb::ReadOptions read;
  PrefixBounds bounds(prefix);
  bounds.Apply(&read);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read, Cf(ColumnFamily::kCaches)));
  for (it->Seek(ToSlice(prefix));
       it->Valid() && absl::StartsWith(ToView(it->key()), prefix); it->Next()) {
    if (!visit(ToView(it->key()), ToView(it->value()))) break;
  }
  return it->status().ok() ? absl::OkStatus()
                           : RocksError(it->status(), "scan the caches");
}

uint64_t RocksEventLog::CacheEpoch() const {
  absl::MutexLock lock(&caches_mu_);
  return cache_epoch_;
}

void RocksEventLog::BumpCacheEpoch() {
  absl::MutexLock lock(&caches_mu_);
  ++cache_epoch_;
}

absl::Status RocksEventLog::KeepCache(absl::string_view key,
                                      absl::string_view value,
                                      uint64_t epoch) const {
  absl::MutexLock lock(&caches_mu_);
  // Derived before a repair ended, or while one runs: not kept.
  if (epoch != cache_epoch_ || epoch % 2 != 0) return absl::OkStatus();
  // In the WAL like every write, but never synced for: a cache lost in a
  // crash is computed again.
  rocksdb::Status s = db_->Put(rocksdb::WriteOptions(),
                               Cf(ColumnFamily::kCaches), ToSlice(key),
                               ToSlice(value));
  return s.ok() ? absl::OkStatus() : RocksError(s, "keep a cache entry");
}

absl::StatusOr<v1::RecordedEvent> RocksEventLog::GetEventAt(
    uint64_t position) const {
  ASSIGN_OR_RETURN(std::vector<v1::RecordedEvent> events,
                   GetEventsAt({position}));
  return std::move(events.front());
}

absl::StatusOr<std::vector<v1::RecordedEvent>> RocksEventLog::GetEventsAt(
    const std::vector<uint64_t>& positions) const {
  // Not checked against the published head: a reader that found a
  // position in a projection may ask for it before the head moves past it.
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  const size_t n = positions.size();
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> slices;
  keys.reserve(n);
  slices.reserve(n);
  for (const uint64_t position : positions) {
    keys.push_back(format::EventKey(position));
    slices.emplace_back(keys.back());
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  if (n > 0) {
    db_->MultiGet(read, Cf(ColumnFamily::kEvents), n, slices.data(),
                  values.data(), statuses.data());
  }
  std::vector<v1::RecordedEvent> events(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t position = positions[i];
    if (position == 0 || statuses[i].IsNotFound()) {
      return absl::NotFoundError(
          absl::StrCat("position ", position, " is not in the log"));
    }
    if (!statuses[i].ok()) {
      return RocksError(statuses[i], absl::StrCat("read position ", position));
    }
    RETURN_IF_ERROR(DecodeEvent(keys[i], values[i], position, &events[i]));
  }
  return events;
}

absl::StatusOr<v1::RecordedEvent> RocksEventLog::GetEvent(
    absl::string_view id) const {
  const std::shared_ptr<const rocksdb::Snapshot> snapshot = ReadSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  absl::StatusOr<uint64_t> position = PositionOf(id, read);
  if (!position.ok()) return position.status();
  return ReadEventAt(read, *position);
}

Head RocksEventLog::GetHead() const {
  absl::MutexLock lock(&head_mu_);
  return head_;
}

TreeHead RocksEventLog::GetTreeHead() const {
  absl::MutexLock lock(&head_mu_);
  return tree_head_;
}

}  // namespace annals::storage
