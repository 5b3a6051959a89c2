// A replica of a replicated log of record: the same RocksDB event log as the
// embedded one, but it does not decide the order of appends. Another log
// (a JetStream stream, storage/jetstream/) commits appends in a total order,
// one sequence number each; every replica materializes them in that order
// with the embedded log's own writer, so that the same committed appends
// give every replica byte-identical events, chain hashes and Merkle roots.
//
// The split is the embedded writer's: "assign the order and commit" is the
// log of record's job; "decide each append against the state before it
// (idempotent retry, expected version, correction targets) and materialize
// it" is the writer's (rocks_commit_group.cc), shared by both modes. Every
// input of that decision is in the committed append — the batch, the time
// the log of record took it — so every replica decides alike, refusals
// included.
#ifndef ANNALS_STORAGE_REPLICA_H_
#define ANNALS_STORAGE_REPLICA_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/event_log.h"

namespace annals::storage {

// An append the log of record has committed.
struct CommittedAppend {
  // Its place in the log of record: 1, 2, 3 ... without gaps.
  uint64_t sequence = 0;
  // When the log of record took it. Its events are recorded at the later of
  // this and the log's last recorded_at, so recorded_at never decreases
  // along the log.
  absl::Time recorded_at;
  AppendBatch batch;
};

// What a replica holds of one stream, read on one snapshot.
struct ReplicaStream {
  uint64_t version = 0;        // the stream's last version; 0: none
  // The sequence of the last committed append to the stream, recorded or
  // refused; 0: none. Equal to the log of record's last sequence of the
  // stream (its "last subject sequence") once the replica has applied it.
  uint64_t last_sequence = 0;
  uint64_t applied = 0;        // the replica's applied sequence
};

class ReplicaLog : public EventLog {
 public:
  // EventLog::AppendAsync answers FAILED_PRECONDITION on a replica: its
  // appends come only through ApplyAsync.

  // Queues `append` for the writer, which decides it exactly as
  // AppendAsync decides a batch (the same answers, refusals included) and
  // records it with the applied sequence in the same commit; `done` gets
  // the answer once it is durable, as AppendAsync's. Appends must come in
  // sequence order, each sequence once: one whose sequence is not the
  // last applied (or queued) + 1 gets FAILED_PRECONDITION and changes
  // nothing. After a storage failure (UNAVAILABLE), apply again from
  // AppliedSequence() + 1 once the log is writable. Thread-safe.
  virtual void ApplyAsync(CommittedAppend append, AppendCallback done) = 0;

  // The last sequence applied and durable (published with the head).
  // Thread-safe.
  virtual uint64_t AppliedSequence() const = 0;

  // `stream` as the published state holds it. Thread-safe.
  virtual absl::StatusOr<ReplicaStream> StreamState(
      absl::string_view stream) const = 0;
};

// Opens (or creates) the RocksDB event log in `path` as a replica of the log
// of record named `log_of_record` (e.g. "jetstream:ANNALS"), recorded in its
// meta on creation. FAILED_PRECONDITION when the directory holds an embedded
// log with events, or a replica of another log of record; otherwise as
// OpenRocksEventLog. OpenRocksEventLog refuses a replica's directory the
// same way: a replica written to directly would part from the others.
absl::StatusOr<std::unique_ptr<ReplicaLog>> OpenRocksReplica(
    const std::string& path, const LogOptions& options,
    absl::string_view log_of_record);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_REPLICA_H_
