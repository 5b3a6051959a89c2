// The replica's side of cluster mode: one thread that reads the log of
// record from JetStream in sequence order, from the sequence after the
// last one the replica applied, and hands each message to the replica's
// writer (ReplicaLog::ApplyAsync), where it is decided and materialized as
// the embedded writer would (storage/replica.h). The consumer is an ordered
// push consumer: ephemeral, flow-controlled, recreated by the client from
// the next sequence when it misses a message or loses its server; nothing
// about it is stored in JetStream, so replicas come and go freely.
//
// When the replica fails to apply (its storage failed), the thread stops
// reading, waits until the replica's applies can succeed again, and starts
// over from the replica's applied sequence + 1.
#ifndef ANNALS_STORAGE_JETSTREAM_REPLICATOR_H_
#define ANNALS_STORAGE_JETSTREAM_REPLICATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/jetstream/applied_results.h"
#include "storage/jetstream/nats_client.h"
#include "storage/replica.h"

namespace annals::storage::jetstream {

// Where a replica stands against the log of record.
struct ReplicationProgress {
  uint64_t applied = 0;     // the replica's applied sequence
  uint64_t last = 0;        // the log of record's last sequence, as last seen
  bool caught_up = false;   // applied what the log held when reading began
  absl::Status error;       // why reading stopped last, OK while it reads
  uint64_t behind() const { return last > applied ? last - applied : 0; }
};

class Replicator {
 public:
  // Committed appends handed to the writer and not yet answered, at most,
  // and their payload bytes at most (beyond one append): enough to fill the
  // writer's next commit groups, and a bound on memory while a new replica
  // catches up on large batches.
  static constexpr size_t kMaxInFlight = 8192;
  static constexpr size_t kMaxInFlightBytes = 64 << 20;

  // `changed` is called (on the replicator's thread, must not block) when
  // the progress moves in a way health cares about: caught up or not, an
  // error or none, the distance behind crossing `max_behind`.
  Replicator(NatsClient* client, ReplicaLog* replica, AppliedResults* results,
             uint64_t max_behind, std::function<void()> changed);
  ~Replicator();  // Stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  void Start();
  // Stops reading; waits for the applies handed to the writer.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  ReplicationProgress Progress() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop();
  // Reads from `start` until stopped, an apply fails or reading fails.
  absl::Status Read(uint64_t start) ABSL_LOCKS_EXCLUDED(mu_);
  // Hands one message to the writer.
  void Apply(uint64_t sequence, absl::Time recorded_at, const char* data,
             int size) ABSL_LOCKS_EXCLUDED(mu_);
  void SetLast(uint64_t last) ABSL_LOCKS_EXCLUDED(mu_);
  // Marks the replica caught up, and logs replica_caught_up, once it has
  // applied up to catch_up_to_.
  void NoteCaughtUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed(const ReplicationProgress& before) ABSL_LOCKS_EXCLUDED(mu_);
  bool Stopping() const ABSL_LOCKS_EXCLUDED(mu_);

  NatsClient* const client_;
  ReplicaLog* const replica_;
  AppliedResults* const results_;
  const uint64_t max_behind_;
  const std::function<void()> changed_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  size_t in_flight_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status apply_failed_ ABSL_GUARDED_BY(mu_);
  ReplicationProgress progress_ ABSL_GUARDED_BY(mu_);
  // The last sequence the log held when reading first began (caught_up);
  // unknown until then.
  std::optional<uint64_t> catch_up_to_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace annals::storage::jetstream

#endif  // ANNALS_STORAGE_JETSTREAM_REPLICATOR_H_
