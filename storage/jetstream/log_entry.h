// How an append travels through the log of record in cluster mode: one
// JetStream message per append request, its payload a serialized
// annals.storage.v1.LogEntry (proto/annals/storage/v1/log_entry.proto), its
// subject naming the stream, its Nats-Msg-Id a digest of the batch.
#ifndef ANNALS_STORAGE_JETSTREAM_LOG_ENTRY_H_
#define ANNALS_STORAGE_JETSTREAM_LOG_ENTRY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/event_log.h"

namespace annals::storage::jetstream {

// The payload of `batch`'s message: deterministic serialization, so that
// the same batch always gives the same bytes (and the same MessageId).
std::string EncodeEntry(const AppendBatch& batch);

// The batch a payload holds. INVALID_ARGUMENT naming what is wrong when the
// payload is not a LogEntry. Every replica decodes the same bytes alike, so
// an undecodable entry is refused alike.
absl::StatusOr<AppendBatch> DecodeEntry(absl::string_view payload);

// The subject token of an annals stream: its name, with every byte outside
// [A-Za-z0-9_:-] (a '.' above all, which separates subject tokens) written
// as '~' and two upper-case hex digits. One-to-one, so each stream has its
// own subject and JetStream's per-subject sequence is the stream's.
std::string SubjectToken(absl::string_view stream);

// The message's Nats-Msg-Id: hex SHA-256 of the stream name, the expected
// version and the events (the payload without the principal), so that a
// retry of the same batch inside the dedupe window is recorded once,
// whoever retries it.
std::string MessageId(const AppendBatch& batch);

}  // namespace annals::storage::jetstream

#endif  // ANNALS_STORAGE_JETSTREAM_LOG_ENTRY_H_
