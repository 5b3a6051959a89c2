// One commit group, on the writer thread (rocks_event_log_impl.h).
// CommitGroup runs the steps: BuildBatchGroup decides each request in queue
// order against the committed state plus what the group staged before it
// (CheckRequest: idempotent retry, expected version, correction targets)
// and stages each passing one into the group's WriteBatch (StageRequest:
// positions, versions, chain hashes, index entries, the Merkle tree);
// ProjectGroup lets the projector add its updates through GroupContext;
// WriteGroup adds the head to meta and writes the batch, not yet synced;
// Advance moves the writer's own state. The syncer (rocks_writer.cc) then
// makes the group durable and answers it.
//
// A replica (storage/replica.h) decides the committed appends of the log of
// record the same way, in their sequence order (CheckSequence), each at the
// time the log of record took it, and records the applied sequence and each
// stream's last sequence in meta with the group.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/rpc_status.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/merkle.h"
#include "storage/projector.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/rocks_projection_overlay.h"
#include "storage/status_macros.h"

namespace annals::storage {
namespace {

using format::ColumnFamily;

// Streams whose current version the writer keeps in memory. When full the
// cache is dropped and refilled from RocksDB (a seek per stream).
constexpr size_t kMaxCachedStreams = 1 << 16;

// The largest batch whose capacity the next group reuses.
constexpr size_t kMaxSpareBatchBytes = 16 << 20;

bool Matches(const ExpectedVersion& expected, uint64_t current) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      return true;
    case ExpectedVersion::Kind::kNoStream:
      return current == 0;
    case ExpectedVersion::Kind::kStreamExists:
      return current > 0;
    case ExpectedVersion::Kind::kExact:
      return current == expected.version;
  }
  return false;
}

}  // namespace

void RocksEventLog::Group::SetRecordedAt(absl::Time t) {
  recorded_at = t;
  // An empty replica's group starts at the infinite past, which has no
  // Timestamp; a committed append sets a real time before anything stages.
  if (t == absl::InfinitePast()) return;
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  recorded_at_proto.set_seconds(seconds);
  recorded_at_proto.set_nanos(static_cast<int32_t>(
      (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

RocksEventLog::Commit RocksEventLog::CommitGroup(
    const std::vector<std::unique_ptr<Request>>& requests) {
  Commit commit;
  if (write_failed_.ok()) {
    absl::MutexLock lock(&sync_mu_);
    if (!sync_failed_.ok()) write_failed_ = sync_failed_;
  }
  if (!write_failed_.ok()) {
    for (const auto& request : requests) request->result = write_failed_;
    return commit;
  }
  Group group;
  // A group's batch grows to megabytes with large appends; growing a new
  // string each time copied it over and over (memmove was 12% of annalsd
  // at 8 sessions x 100 events). The next group reuses its capacity,
  // unless it is larger than groups usually are.
  group.batch = std::move(spare_batch_);
  absl::Cleanup keep_batch = [this, &group] {
    if (group.batch.GetDataSize() <= kMaxSpareBatchBytes) {
      spare_batch_ = std::move(group.batch);
      spare_batch_.Clear();
    } else {
      spare_batch_ = rocksdb::WriteBatch();
    }
  };
  group.head = committed_;
  group.frontier = frontier_;
  group.applied_sequence = committed_sequence_;
  // recorded_at never decreases along the log, even if the clock steps back.
  // A replica's comes from the committed appends alone (BuildBatchGroup).
  group.SetRecordedAt(replica_of_.empty()
                          ? std::max(absl::Now(), last_recorded_at_)
                          : last_recorded_at_);

  BuildBatchGroup(requests, &group);
  absl::Duration projection;
  if (group.broken.ok() && group.staged_events > 0 &&
      options_.projector != nullptr) {
    const absl::Time projection_start = absl::Now();
    absl::Status projected = ProjectGroup(requests, &group);
    projection = absl::Now() - projection_start;
    if (!projected.ok()) {
      // Nothing is written and the head stays; the log goes on. Requests
      // that failed their own checks were decided against a group that will
      // not commit, so they get this answer too.
      const absl::Status failure = absl::InternalError(absl::StrCat(
          "projection failed, nothing was written: ", projected.message()));
      for (const auto& request : requests) request->result = failure;
      return commit;
    }
  }
  if (!group.broken.ok() || group.staged_events > 0 ||
      group.applied_sequence != committed_sequence_) {
    absl::Status written =
        group.broken.ok() ? WriteGroup(&group) : group.broken;
    if (!written.ok()) {
      // Nothing of the group is written, and the log stops taking appends
      // until storage is back: the head stays where it was.
      write_failed_ = Refused(written);
      Fail(write_failed_);
      for (const auto& request : requests) request->result = write_failed_;
      return commit;
    }
    commit.wrote = true;
    commit.snapshot = TakeSnapshot();
    const absl::Time now = absl::Now();
    if (anchor_ == nullptr ||
        now - anchor_taken_ > options_.snapshot_anchor_max_age) {
      anchor_ = commit.snapshot;
      anchor_taken_ = now;
    }
    if (options_.observer != nullptr) {
      options_.observer->GroupWritten(group.staged_events, projection);
    }
    // The group is done with: its entries move into the cache.
    group.projections.MoveOut(
        ProjectionFamily::kRelationships,
        [this](const std::string& key, std::optional<std::string> value) {
          projection_cache_.Remember(key, std::move(value));
        });
  }
  commit.grew = group.head.position != committed_.position;
  Advance(group);
  commit.head = committed_;
  commit.applied_sequence = committed_sequence_;
  if (commit.grew) {
    commit.tree_head = {frontier_.size, merkle::RootOf(frontier_)};
  }
  for (const auto& request : requests) {
    if (request->result.ok()) request->result->head = group.head.position;
  }
  return commit;
}

std::vector<const v1::RecordedEvent*> RocksEventLog::StagedEvents(
    const std::vector<std::unique_ptr<Request>>& requests) {
  // Requests were staged in queue order with increasing positions, so this
  // is position order.
  std::vector<const v1::RecordedEvent*> events;
  for (const auto& request : requests) {
    if (!request->result.ok() || request->result->already_recorded) continue;
    for (const v1::RecordedEvent& r : request->recorded) events.push_back(&r);
  }
  return events;
}

// The projector's view of a commit group: the group's indexed batch over the
// committed database.
class RocksEventLog::GroupContext final : public OverlayContext {
 public:
  GroupContext(RocksEventLog* log, Group* group)
      : OverlayContext(log->db_.get(),
                       {log->ProjectionCf(ProjectionFamily::kDyadTimeline),
                        log->ProjectionCf(ProjectionFamily::kRelationships)},
                       &group->batch, &group->projections,
                       &log->projection_cache_),
        log_(log),
        group_(group) {}

  absl::StatusOr<uint64_t> PositionOf(absl::string_view id) override {
    if (auto it = group_->ids.find(id); it != group_->ids.end()) {
      return it->second->position();
    }
    return log_->PositionOf(id);
  }

  absl::StatusOr<v1::RecordedEvent> EventAt(uint64_t position) override {
    const uint64_t committed = log_->committed_.position;
    if (position > committed && position - committed <= group_->staged.size()) {
      return *group_->staged[position - committed - 1];
    }
    return log_->ReadEventAt(rocksdb::ReadOptions(), position);
  }

 private:
  const RocksEventLog* const log_;
  Group* const group_;
};

absl::Status RocksEventLog::ProjectGroup(
    const std::vector<std::unique_ptr<Request>>& requests, Group* group) {
  GroupContext context(this, group);
  RETURN_IF_ERROR(options_.projector->Project(StagedEvents(requests), &context));
  return context.WriteStaged();
}

void RocksEventLog::BuildBatchGroup(
    const std::vector<std::unique_ptr<Request>>& requests, Group* group) {
  const bool replica = !replica_of_.empty();
  for (const auto& request : requests) {
    const absl::Time group_time = group->recorded_at;
    if (replica) {
      absl::Status in_order = CheckSequence(*request, group);
      if (!in_order.ok()) {
        request->result = std::move(in_order);
        continue;
      }
    }
    uint64_t current = 0;
    bool staged = false;
    absl::StatusOr<std::optional<AppendResult>> decided =
        CheckRequest(*request, *group, &current);
    if (!decided.ok()) {
      request->result = std::move(decided).status();
    } else if (decided->has_value()) {
      request->result = **std::move(decided);
    } else {
      absl::Status stage = StageRequest(request.get(), current, group);
      staged = stage.ok();
      if (!staged) {
        // Not a decision every replica makes alike: the whole group fails
        // and is applied again.
        if (replica && group->broken.ok()) group->broken = stage;
        request->result = std::move(stage);
      }
    }
    if (!replica) continue;
    // Only recorded events move the log's time.
    if (!staged) group->SetRecordedAt(group_time);
    group->applied_sequence = request->sequence;
    if (!request->batch.stream.empty()) {
      group->stream_sequences[request->batch.stream] = request->sequence;
    }
  }
}

absl::Status RocksEventLog::CheckSequence(const Request& request,
                                          Group* group) const {
  if (request.sequence != group->applied_sequence + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "committed append ", request.sequence, " is out of order: the "
        "replica has applied up to ", group->applied_sequence));
  }
  if (request.committed_at > group->recorded_at) {
    group->SetRecordedAt(request.committed_at);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<AppendResult>> RocksEventLog::CheckRequest(
    const Request& request, const Group& group, uint64_t* current) {
  const AppendBatch& batch = request.batch;
  // The caller validated the batch; these would corrupt the format.
  if (batch.events.empty()) {
    return absl::InvalidArgumentError("events: at least one event is required");
  }
  if (batch.stream.empty() ||
      batch.stream.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "stream: must be non-empty and contain no NUL byte");
  }

  // 1. Idempotency: which ids are already recorded (committed or staged)?
  absl::flat_hash_map<absl::string_view, size_t> batch_ids;
  AppendResult retry;
  retry.stream = batch.stream;
  retry.already_recorded = true;
  std::string first_recorded_id;  // of the first recorded event, if any
  uint64_t first_recorded_position = 0;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const v1::Event& event = batch.events[i];
    if (event.id().empty() || event.id().find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].id: must be non-empty and contain no NUL byte"));
    }
    auto [it, inserted] = batch_ids.emplace(event.id(), i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].id: repeats events[", it->second, "].id"));
    }
    v1::RecordedEvent scratch;
    ASSIGN_OR_RETURN(const v1::RecordedEvent* known,
                     FindEvent(group, event.id(), &scratch));
    if (known == nullptr) continue;
    if (!google::protobuf::util::MessageDifferencer::Equals(event,
                                                            known->event())) {
      return rpc::DuplicateEventId(event.id(), known->position(),
                                   "recorded with different content");
    }
    if (known->stream() != batch.stream) {
      return rpc::DuplicateEventId(
          event.id(), known->position(),
          absl::StrCat("recorded in stream ", known->stream()));
    }
    retry.positions.push_back(known->position());
    retry.stream_version = known->stream_version();
    if (first_recorded_id.empty()) {
      first_recorded_id = event.id();
      first_recorded_position = known->position();
    }
  }
  if (retry.positions.size() == batch.events.size()) return retry;
  if (!retry.positions.empty()) {
    return rpc::DuplicateEventId(
        first_recorded_id, first_recorded_position,
        "only some events of the batch are recorded; a retry must repeat the "
        "original batch exactly");
  }

  // 2. Expected version (not checked for a retry, above).
  ASSIGN_OR_RETURN(*current, StreamVersion(group, batch.stream));
  if (!Matches(batch.expected, *current)) {
    return rpc::WrongExpectedVersion(batch.stream, batch.expected.ToString(),
                                     *current);
  }

  // 3. Corrections name an earlier event that is not itself a correction.
  for (size_t i = 0; i < batch.events.size(); ++i) {
    if (!batch.events[i].has_correction()) continue;
    const std::string& target_id =
        batch.events[i].correction().corrects_event_id();
    const std::string field =
        absl::StrCat("events[", i, "].correction.corrects_event_id");
    bool target_is_correction = false;
    auto in_batch = batch_ids.find(target_id);
    if (in_batch != batch_ids.end()) {
      if (in_batch->second >= i) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": event \"", target_id,
            "\" is not earlier in the log or the batch"));
      }
      target_is_correction =
          batch.events[in_batch->second].has_correction();
    } else {
      v1::RecordedEvent scratch;
      ASSIGN_OR_RETURN(const v1::RecordedEvent* target,
                       FindEvent(group, target_id, &scratch));
      if (target == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": event \"", target_id, "\" is not in the log"));
      }
      target_is_correction = target->event().has_correction();
    }
    if (target_is_correction) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": event \"", target_id,
                       "\" is itself a correction; correct the original"));
    }
  }
  return std::nullopt;
}

absl::Status RocksEventLog::StageRequest(Request* request, uint64_t current,
                                         Group* group) {
  AppendBatch& batch = request->batch;
  const size_t n = batch.events.size();

  // Build and serialize every event before touching the group, so that a
  // failure leaves the group as it was.
  std::vector<v1::RecordedEvent>& recorded = request->recorded;
  recorded.clear();
  recorded.reserve(n);
  std::vector<std::string> stored(n);
  for (size_t i = 0; i < n; ++i) {
    v1::RecordedEvent& r = recorded.emplace_back();
    *r.mutable_event() = std::move(batch.events[i]);
    r.set_position(group->head.position + i + 1);
    r.set_stream(batch.stream);
    r.set_stream_version(current + i + 1);
    *r.mutable_recorded_at() = group->recorded_at_proto;
    r.set_principal(batch.principal);
    if (!r.SerializeToString(&stored[i])) {
      recorded.clear();
      return absl::InternalError(
          absl::StrCat("events[", i, "]: cannot be serialized"));
    }
  }

  rocksdb::WriteBatch& wb = group->batch;
  wb.SetSavePoint();
  std::string hash = group->head.hash;
  merkle::Frontier frontier = group->frontier;
  rocksdb::Status s;
  for (size_t i = 0; i < n && s.ok(); ++i) {
    v1::RecordedEvent& r = recorded[i];
    hash = ChainHash(hash, stored[i]);
    s = StageTreeAndCorrection(stored[i], r.event(), r.position(), &frontier,
                               &wb);
    r.set_hash(hash);  // after serializing: `stored` never holds it
    const std::string position = format::EncodeBigEndian64(r.position());
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kEvents), format::EventKey(r.position()),
                 format::EventValue(hash, stored[i]));
    }
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kStreams),
                 format::StreamKey(r.stream(), r.stream_version()), position);
    }
    if (s.ok()) {
      s = wb.Put(Cf(ColumnFamily::kEventIds), ToSlice(r.event().id()),
                 position);
    }
  }
  if (!s.ok()) {
    rocksdb::Status rolled_back = wb.RollbackToSavePoint();
    recorded.clear();
    if (!rolled_back.ok()) {
      // The batch can no longer be trusted: fail the whole group.
      group->broken = RocksError(rolled_back, "roll back a write batch");
      return group->broken;
    }
    return RocksError(s, "build the write batch");
  }
  s = wb.PopSavePoint();
  (void)s;  // NotFound only when no save point is set; one was.

  AppendResult result;
  result.stream = batch.stream;
  for (const v1::RecordedEvent& r : recorded) {
    result.positions.push_back(r.position());
    group->ids[r.event().id()] = &r;
    group->staged.push_back(&r);
  }
  result.stream_version = current + n;
  group->head.position += n;
  group->head.hash = std::move(hash);
  group->frontier = std::move(frontier);
  group->stream_versions[batch.stream] = current + n;
  group->staged_events += n;
  request->result = std::move(result);
  return absl::OkStatus();
}

absl::Status RocksEventLog::WriteGroup(Group* group) {
  rocksdb::WriteBatch& wb = group->batch;
  rocksdb::Status s = wb.Put(Cf(ColumnFamily::kMeta),
                             ToSlice(format::kMetaHeadPosition),
                             format::EncodeBigEndian64(group->head.position));
  if (s.ok()) {
    s = wb.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaHeadHash),
               group->head.hash);
  }
  if (s.ok()) {
    s = wb.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaMerkleFrontier),
               merkle::EncodeFrontier(group->frontier));
  }
  if (s.ok() && !replica_of_.empty()) {
    s = wb.Put(Cf(ColumnFamily::kMeta), ToSlice(format::kMetaAppliedSequence),
               format::EncodeBigEndian64(group->applied_sequence));
    for (const auto& [stream, sequence] : group->stream_sequences) {
      if (!s.ok()) break;
      s = wb.Put(Cf(ColumnFamily::kMeta), format::StreamSequenceKey(stream),
                 format::EncodeBigEndian64(sequence));
    }
  }
  if (!s.ok()) return RocksError(s, "build the write batch");
  s = WriteToWal(&wb);
  if (!s.ok()) return RocksError(s, "write");
  return absl::OkStatus();
}

void RocksEventLog::Advance(const Group& group) {
  if (group.head.position != committed_.position) frontier_ = group.frontier;
  committed_ = group.head;
  committed_sequence_ = group.applied_sequence;
  last_recorded_at_ = group.recorded_at;
  for (const auto& [stream, version] : group.stream_versions) {
    if (version_cache_.size() >= kMaxCachedStreams &&
        !version_cache_.contains(stream)) {
      version_cache_.clear();
    }
    version_cache_[stream] = version;
  }
}

absl::StatusOr<uint64_t> RocksEventLog::StreamVersion(
    const Group& group, const std::string& stream) {
  if (auto it = group.stream_versions.find(stream);
      it != group.stream_versions.end()) {
    return it->second;
  }
  if (auto it = version_cache_.find(stream); it != version_cache_.end()) {
    return it->second;
  }
  // The writer is the only one who writes: the latest state is committed.
  ASSIGN_OR_RETURN(uint64_t version,
                   ReadStreamVersion(rocksdb::ReadOptions(), stream));
  if (version_cache_.size() >= kMaxCachedStreams) version_cache_.clear();
  version_cache_[stream] = version;
  return version;
}

absl::StatusOr<const v1::RecordedEvent*> RocksEventLog::FindEvent(
    const Group& group, absl::string_view id, v1::RecordedEvent* scratch) {
  if (auto it = group.ids.find(id); it != group.ids.end()) return it->second;
  ASSIGN_OR_RETURN(const std::optional<uint64_t> position, FindPosition(id));
  if (!position.has_value()) return nullptr;
  ASSIGN_OR_RETURN(*scratch, ReadEventAt(rocksdb::ReadOptions(), *position));
  return scratch;
}

}  // namespace annals::storage
