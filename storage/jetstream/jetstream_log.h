// Cluster mode's EventLog: the log of record is a JetStream stream on a
// NATS cluster, and this process holds a replica of it (storage/replica.h)
// that serves every read, proof, export and subscription from its own
// RocksDB.
//
// The path of an append: AppendAsync queues it for the publisher thread,
// which encodes the batch as one message (log_entry.h) on the stream's
// subject with Nats-Msg-Id = a digest of the batch (a retry inside the
// dedupe window is recorded once) and, for an exact expected version (or
// no_stream) that the replica's state matches, Nats-Expected-Last-Subject-
// Sequence = the stream's last sequence as the replica knows it, so that of
// two replicas racing for one version JetStream takes exactly one. It
// publishes asynchronously; JetStream's acknowledgment (durable on a quorum)
// gives the message's sequence, and the append is answered once this
// replica has applied that sequence, with the writer's decision: the
// positions, or the refusal every replica made alike.
//
// When the replica's state does not match the expected version, the
// publisher first waits until the replica has applied everything the log
// of record held (it may only be behind), then refuses locally (wrong
// expected version, when no event of the batch is recorded) or publishes
// without the header and lets the writer decide. A message JetStream
// refuses for its expected subject sequence goes the same way.
//
// The path of a read: the replica's, at once; a caller that needs its own
// writes made elsewhere waits with WaitForPosition.
#ifndef ANNALS_STORAGE_JETSTREAM_JETSTREAM_LOG_H_
#define ANNALS_STORAGE_JETSTREAM_JETSTREAM_LOG_H_

#include <nats/nats.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/event_log.h"
#include "storage/jetstream/applied_results.h"
#include "storage/jetstream/nats_client.h"
#include "storage/jetstream/replicator.h"
#include "storage/replica.h"

namespace annals::storage::jetstream {

struct ClusterOptions {
  NatsOptions nats;
  // Health says NOT_SERVING (WatchWritable: UNAVAILABLE) while the replica
  // is more than this many appends behind the log of record.
  uint64_t max_behind = 10000;
};

class JetStreamLog final : public EventLog {
 public:
  // Connects to NATS, makes sure the stream exists and starts reading it
  // into `replica` from its applied sequence + 1.
  static absl::StatusOr<std::unique_ptr<JetStreamLog>> Open(
      std::unique_ptr<ReplicaLog> replica, const ClusterOptions& options);
  ~JetStreamLog() override;  // Close()


  // EventLog: the contracts are in storage/event_log.h.
  void AppendAsync(AppendBatch batch, AppendCallback done) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // OK while the replica's storage takes writes, NATS is connected, reading
  // the log of record works and the replica is at most max_behind behind.
  void WatchWritable(std::function<void(const absl::Status&)> listener)
      override ABSL_LOCKS_EXCLUDED(watch_mu_);
  absl::StatusOr<ReadPage> ReadStream(absl::string_view stream, uint64_t from,
                                      Direction direction,
                                      size_t limit) const override {
    return replica_->ReadStream(stream, from, direction, limit);
  }
  absl::StatusOr<ReadPage> ReadAll(uint64_t from, Direction direction,
                                   size_t limit) const override {
    return replica_->ReadAll(from, direction, limit);
  }
  absl::StatusOr<v1::RecordedEvent> GetEvent(
      absl::string_view id) const override {
    return replica_->GetEvent(id);
  }
  absl::StatusOr<v1::RecordedEvent> GetEventAt(
      uint64_t position) const override {
    return replica_->GetEventAt(position);
  }
  absl::StatusOr<std::vector<v1::RecordedEvent>> GetEventsAt(
      const std::vector<uint64_t>& positions) const override {
    return replica_->GetEventsAt(positions);
  }
  absl::StatusOr<std::string> ReadProjection(
      ProjectionFamily family, absl::string_view key) const override {
    return replica_->ReadProjection(family, key);
  }
  absl::Status ScanProjection(
      ProjectionFamily family, absl::string_view prefix,
      absl::string_view start, Direction direction,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
    return replica_->ScanProjection(family, prefix, start, direction, visit);
  }
  absl::Status ScanCache(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
    return replica_->ScanCache(prefix, visit);
  }
  uint64_t CacheEpoch() const override { return replica_->CacheEpoch(); }
  absl::Status KeepCache(absl::string_view key, absl::string_view value,
                         uint64_t epoch) const override {
    return replica_->KeepCache(key, value, epoch);
  }
  absl::StatusOr<RebuildReport> RebuildProjections(bool repair) override {
    return replica_->RebuildProjections(repair);
  }
  std::optional<RebuildReport> RebuiltOnOpen() const override {
    return replica_->RebuiltOnOpen();
  }
  Head GetHead() const override { return replica_->GetHead(); }
  TreeHead GetTreeHead() const override { return replica_->GetTreeHead(); }
  absl::StatusOr<std::string> RootAt(uint64_t size) const override {
    return replica_->RootAt(size);
  }
  absl::StatusOr<std::vector<std::string>> ProveInclusion(
      uint64_t position, uint64_t tree_size) const override {
    return replica_->ProveInclusion(position, tree_size);
  }
  absl::StatusOr<std::vector<std::string>> ProveConsistency(
      uint64_t old_size, uint64_t new_size) const override {
    return replica_->ProveConsistency(old_size, new_size);
  }
  absl::StatusOr<std::vector<StoredEvent>> ReadStored(
      uint64_t from, size_t limit) const override {
    return replica_->ReadStored(from, limit);
  }
  absl::StatusOr<std::vector<uint64_t>> CorrectionsOf(
      absl::string_view id) const override {
    return replica_->CorrectionsOf(id);
  }
  absl::StatusOr<BackupReport> Backup(const std::string& dir) override {
    return replica_->Backup(dir);
  }
  absl::Status VerifyChain() const override { return replica_->VerifyChain(); }
  StorageFigures Figures() const override { return replica_->Figures(); }
  std::optional<ReplicationFigures> Replication() const override {
    const ReplicationProgress progress = replicator_->Progress();
    return ReplicationFigures{progress.applied, progress.last,
                              progress.caught_up};
  }
  void Probe(absl::AnyInvocable<void() &&> reached) override {
    replica_->Probe(std::move(reached));
  }
  uint64_t WriterProgress() const override {
    return replica_->WriterProgress();
  }
  // Stops taking appends, waits for the publishes in flight (answering
  // those still unanswered UNAVAILABLE, maybe recorded), stops reading and
  // closes the replica.
  void Close() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Pending;
  explicit JetStreamLog(std::unique_ptr<ReplicaLog> replica,
                        const ClusterOptions& options);

  void PublisherLoop();
  void SyncLoop();
  // Publishes `pending` (or answers it); publisher thread.
  void Publish(std::unique_ptr<Pending> pending) ABSL_LOCKS_EXCLUDED(mu_);
  // For the sync thread: wait until the replica holds what the log of
  // record holds now, then publish again.
  void NeedsSync(std::unique_ptr<Pending> pending) ABSL_LOCKS_EXCLUDED(mu_);
  static void OnPublishAck(jsCtx* js, natsMsg* msg, jsPubAck* ack,
                           jsPubAckErr* error, void* closure);
  void Acknowledged(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Recomputes what WatchWritable reports and tells the listener when it
  // changed.
  void UpdateWritable() ABSL_LOCKS_EXCLUDED(watch_mu_);
  absl::Status Writable() const ABSL_LOCKS_EXCLUDED(watch_mu_);

  const ClusterOptions options_;
  std::unique_ptr<ReplicaLog> replica_;
  AppliedResults results_;
  std::unique_ptr<NatsClient> client_;
  std::unique_ptr<Replicator> replicator_;

  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::unique_ptr<Pending>> to_publish_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<Pending>> to_sync_ ABSL_GUARDED_BY(mu_);
  // Published, awaiting JetStream's acknowledgment, by message.
  absl::flat_hash_map<const natsMsg*, std::unique_ptr<Pending>> in_flight_
      ABSL_GUARDED_BY(mu_);
  std::thread publisher_;
  std::thread syncer_;

  mutable absl::Mutex watch_mu_;
  std::function<void(const absl::Status&)> listener_ ABSL_GUARDED_BY(watch_mu_);
  absl::Status replica_writable_ ABSL_GUARDED_BY(watch_mu_);
  bool connected_ ABSL_GUARDED_BY(watch_mu_) = true;
  std::optional<absl::Status> told_ ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace annals::storage::jetstream

#endif  // ANNALS_STORAGE_JETSTREAM_JETSTREAM_LOG_H_
