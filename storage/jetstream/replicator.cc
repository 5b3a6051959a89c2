// Reading the log of record into the replica (replicator.h).
#include "storage/jetstream/replicator.h"

#include <nats/nats.h>
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "log/log.h"
#include "storage/jetstream/log_entry.h"
#include "storage/replica.h"

namespace annals::storage::jetstream {
namespace {

// How long a read waits for the next message before it looks around (the
// log of record's last sequence, a stop).
constexpr int64_t kNextMessageMs = 500;
// How often the consumer's server shows it is alive.
constexpr absl::Duration kHeartbeat = absl::Seconds(1);
// Between two attempts to read after an error.
constexpr absl::Duration kRetryInterval = absl::Seconds(1);

}  // namespace

Replicator::Replicator(NatsClient* client, ReplicaLog* replica,
                       AppliedResults* results, uint64_t max_behind,
                       std::function<void()> changed)
    : client_(client),
      replica_(replica),
      results_(results),
      max_behind_(max_behind),
      changed_(std::move(changed)) {
  progress_.applied = replica->AppliedSequence();
}

Replicator::~Replicator() { Stop(); }

void Replicator::Start() {
  thread_ = std::thread(&Replicator::Loop, this);
  pthread_setname_np(thread_.native_handle(), "annals-replica");
}

void Replicator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool Replicator::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

ReplicationProgress Replicator::Progress() const {
  absl::MutexLock lock(&mu_);
  return progress_;
}

void Replicator::Changed(const ReplicationProgress& before) {
  ReplicationProgress now = Progress();
  const bool far = now.behind() > max_behind_;
  const bool was_far = before.behind() > max_behind_;
  if (now.caught_up != before.caught_up || now.error.ok() != before.error.ok() ||
      now.error.message() != before.error.message() || far != was_far) {
    if (changed_) changed_();
  }
}

void Replicator::Loop() {
  while (!Stopping()) {
    {
      // Every apply handed over is answered before the next reading
      // decides where to start.
      absl::MutexLock lock(&mu_);
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return in_flight_ == 0;
      };
      mu_.Await(absl::Condition(&idle));
      apply_failed_ = absl::OkStatus();
    }
    const uint64_t start = replica_->AppliedSequence() + 1;
    results_->Skipped(start - 1);
    const ReplicationProgress before = Progress();
    absl::Status read = Read(start);
    if (Stopping()) break;
    {
      absl::MutexLock lock(&mu_);
      progress_.error = read;
    }
    if (!read.ok()) {
      log::Warn("replication_paused",
                {{"error", read.ToString()},
                 {"applied_sequence", replica_->AppliedSequence()}});
    }
    Changed(before);
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), kRetryInterval);
  }
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

void Replicator::SetLast(uint64_t last) {
  const ReplicationProgress before = Progress();
  {
    absl::MutexLock lock(&mu_);
    progress_.last = std::max(progress_.last, last);
    if (!catch_up_to_.has_value()) catch_up_to_ = last;
    progress_.applied = replica_->AppliedSequence();
    NoteCaughtUp();
  }
  Changed(before);
}

void Replicator::NoteCaughtUp() {
  if (progress_.caught_up || !catch_up_to_.has_value() ||
      progress_.applied < *catch_up_to_) {
    return;
  }
  progress_.caught_up = true;
  log::Info("replica_caught_up", {{"sequence", progress_.applied},
                                  {"position", replica_->GetHead().position}});
}

absl::Status Replicator::Read(uint64_t start) {
  absl::StatusOr<uint64_t> last = client_->LastSequence();
  if (!last.ok()) return last.status();
  SetLast(*last);
  const ReplicationProgress before = Progress();
  {
    absl::MutexLock lock(&mu_);
    progress_.error = absl::OkStatus();
  }
  Changed(before);

  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  const std::string stream = client_->options().stream;
  sub_options.Stream = stream.c_str();
  sub_options.Ordered = true;
  // The client recreates an ordered consumer once heartbeats stop (its
  // server died); 1 s instead of the default 5 s cuts that pause.
  sub_options.Config.Heartbeat = absl::ToInt64Nanoseconds(kHeartbeat);
  sub_options.Config.DeliverPolicy =
      start <= 1 ? js_DeliverAll : js_DeliverByStartSequence;
  if (start > 1) sub_options.Config.OptStartSeq = start;
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, client_->js(),
                                  client_->AllSubjects().c_str(), nullptr,
                                  &sub_options, &code);
  if (s != NATS_OK) return FromNats(s, "read the log of record", code);

  absl::Status result;
  uint64_t next = start;
  absl::Time looked = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      if (!apply_failed_.ok()) {
        result = apply_failed_;
        break;
      }
    }
    natsMsg* msg = nullptr;
    s = natsSubscription_NextMsg(&msg, sub, kNextMessageMs);
    if (s == NATS_TIMEOUT || absl::Now() - looked > absl::Seconds(1)) {
      looked = absl::Now();
      absl::StatusOr<uint64_t> now = client_->LastSequence();
      if (now.ok()) SetLast(*now);
    }
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      result = FromNats(s, "read the log of record");
      break;
    }
    jsMsgMetaData* meta = nullptr;
    s = natsMsg_GetMetaData(&meta, msg);
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      result = FromNats(s, "read a message's sequence");
      break;
    }
    const uint64_t sequence = meta->Sequence.Stream;
    const absl::Time recorded_at = absl::FromUnixNanos(meta->Timestamp);
    const uint64_t pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (sequence < next) {  // delivered again
      natsMsg_Destroy(msg);
      continue;
    }
    if (sequence > next) {
      natsMsg_Destroy(msg);
      result = absl::DataLossError(absl::StrCat(
          "the log of record skipped from sequence ", next - 1, " to ",
          sequence, "; messages must never be deleted from it"));
      break;
    }
    Apply(sequence, recorded_at, natsMsg_GetData(msg),
          natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
    {
      absl::MutexLock lock(&mu_);
      progress_.last = std::max(progress_.last, sequence + pending);
    }
    next = sequence + 1;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return result;
}

void Replicator::Apply(uint64_t sequence, absl::Time recorded_at,
                       const char* data, int size) {
  CommittedAppend append;
  append.sequence = sequence;
  append.recorded_at = recorded_at;
  absl::StatusOr<AppendBatch> batch =
      DecodeEntry(absl::string_view(data, static_cast<size_t>(size)));
  // An entry no replica can read is refused by all alike: an empty batch
  // (the writer answers INVALID_ARGUMENT) that still takes its sequence.
  if (batch.ok()) append.batch = *std::move(batch);
  {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_ == 0 || (in_flight_ < kMaxInFlight &&
                                 in_flight_bytes_ < kMaxInFlightBytes);
    };
    mu_.Await(absl::Condition(&room));
    ++in_flight_;
    in_flight_bytes_ += static_cast<size_t>(size);
  }
  replica_->ApplyAsync(
      std::move(append),
      [this, sequence, bytes = static_cast<size_t>(size)](
          absl::StatusOr<AppendResult> answer) {
        const bool applied = replica_->AppliedSequence() >= sequence;
        if (applied) results_->Applied(sequence, answer);
        const ReplicationProgress before = Progress();
        {
          absl::MutexLock lock(&mu_);
          --in_flight_;
          in_flight_bytes_ -= bytes;
          if (!applied && apply_failed_.ok()) {
            apply_failed_ = answer.ok() ? absl::InternalError(absl::StrCat(
                                              "sequence ", sequence,
                                              " was answered but not applied"))
                                        : answer.status();
          }
          if (applied) {
            progress_.applied = std::max(progress_.applied, sequence);
            NoteCaughtUp();
          }
        }
        Changed(before);
      });
}

}  // namespace annals::storage::jetstream
