// Cluster mode's EventLog: publishing appends to the log of record and
// answering them from the replica (jetstream_log.h).
#include "storage/jetstream/jetstream_log.h"

#include <nats/nats.h>
#include <pthread.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "log/log.h"
#include "proto/rpc_status.h"
#include "storage/jetstream/log_entry.h"

namespace annals::storage::jetstream {
namespace {

// Answers kept for publishers that ask after their sequence was applied.
constexpr size_t kKeptAnswers = 1 << 16;
// Publishes of one append refused for their expected subject sequence,
// at most, before it goes without the header and the writer decides.
constexpr int kMaxSyncs = 3;
// While JetStream elects a new leader for the stream (a node died) a
// publish finds no responder or no answer; it is tried again this long,
// every kRetryPause, before the append is refused. Nats-Msg-Id makes a
// second copy of a message that was stored after all harmless.
constexpr absl::Duration kRetryFor = absl::Seconds(10);
constexpr absl::Duration kRetryPause = absl::Milliseconds(250);

absl::Status MaybeRecorded(const absl::Status& why) {
  return absl::UnavailableError(absl::StrCat(
      why.message(), "; the append may be recorded, and a retry with the "
      "same event ids is safe"));
}

}  // namespace

struct JetStreamLog::Pending {
  AppendBatch batch;
  AppendCallback done;
  std::string payload;  // EncodeEntry(batch), once
  std::string msg_id;   // Nats-Msg-Id
  int syncs = 0;
  // The replica held everything the log of record held when this was
  // last decided: a mismatched version is not the replica being behind.
  bool synced = false;
  // Publish without the expected subject sequence; the writer decides.
  bool unchecked = false;
  // When it was first published, and when it may be published again after
  // JetStream could not take it (the sync thread waits for that).
  absl::Time first_try = absl::InfinitePast();
  absl::Time retry_at = absl::InfinitePast();
};

absl::StatusOr<std::unique_ptr<JetStreamLog>> JetStreamLog::Open(
    std::unique_ptr<ReplicaLog> replica, const ClusterOptions& options) {
  std::unique_ptr<JetStreamLog> log(
      new JetStreamLog(std::move(replica), options));
  NatsOptions nats = options.nats;
  JetStreamLog* self = log.get();
  nats.on_connection = [self](bool connected, const std::string& detail) {
    {
      absl::MutexLock lock(&self->watch_mu_);
      self->connected_ = connected;
    }
    log::Info(connected ? "nats_connected" : "nats_disconnected",
              {{"detail", detail}});
    self->UpdateWritable();
  };
  absl::StatusOr<std::unique_ptr<NatsClient>> client =
      NatsClient::Connect(nats, &JetStreamLog::OnPublishAck, self);
  if (!client.ok()) {
    log->replica_->Close();
    return client.status();
  }
  log->client_ = *std::move(client);
  log->replicator_ = std::make_unique<Replicator>(
      log->client_.get(), log->replica_.get(), &log->results_,
      options.max_behind, [self] { self->UpdateWritable(); });
  log->replica_->WatchWritable([self](const absl::Status& writable) {
    {
      absl::MutexLock lock(&self->watch_mu_);
      self->replica_writable_ = writable;
    }
    self->UpdateWritable();
  });
  log->replicator_->Start();
  log->publisher_ = std::thread(&JetStreamLog::PublisherLoop, self);
  log->syncer_ = std::thread(&JetStreamLog::SyncLoop, self);
  pthread_setname_np(log->publisher_.native_handle(), "annals-publish");
  pthread_setname_np(log->syncer_.native_handle(), "annals-jsync");
  return log;
}

JetStreamLog::JetStreamLog(std::unique_ptr<ReplicaLog> replica,
                           const ClusterOptions& options)
    : options_(options), replica_(std::move(replica)), results_(kKeptAnswers) {}

JetStreamLog::~JetStreamLog() { Close(); }

void JetStreamLog::AppendAsync(AppendBatch batch, AppendCallback done) {
  auto pending = std::make_unique<Pending>();
  pending->batch = std::move(batch);
  pending->done = std::move(done);
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      refused = absl::UnavailableError("event log is closed");
    } else if (!client_->Connected()) {
      refused = absl::UnavailableError(
          "no connection to NATS: appends cannot reach the log of record");
    } else {
      to_publish_.push_back(std::move(pending));
      return;
    }
  }
  std::move(pending->done)(std::move(refused));
}

void JetStreamLog::PublisherLoop() {
  for (;;) {
    std::unique_ptr<Pending> pending;
    bool closed = false;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || !to_publish_.empty();
      };
      mu_.Await(absl::Condition(&work));
      if (to_publish_.empty()) return;
      pending = std::move(to_publish_.front());
      to_publish_.pop_front();
      closed = closed_;
    }
    if (closed) {
      std::move(pending->done)(absl::UnavailableError("event log is closed"));
    } else {
      Publish(std::move(pending));
    }
  }
}

void JetStreamLog::Publish(std::unique_ptr<Pending> pending) {
  const AppendBatch& batch = pending->batch;
  if (pending->payload.empty()) {
    pending->payload = EncodeEntry(batch);
    pending->msg_id = MessageId(batch);
  }
  const int64_t max_payload = client_->MaxPayload();
  if (static_cast<int64_t>(pending->payload.size()) > max_payload) {
    std::move(pending->done)(absl::ResourceExhaustedError(absl::StrCat(
        "the append is ", pending->payload.size(), " bytes; in cluster mode "
        "an append is one NATS message, and the servers take at most ",
        max_payload, " (their max_payload)")));
    return;
  }
  std::optional<uint64_t> expect_last;
  const ExpectedVersion::Kind kind = batch.expected.kind;
  if (!pending->unchecked && (kind == ExpectedVersion::Kind::kNoStream ||
                              kind == ExpectedVersion::Kind::kExact)) {
    absl::StatusOr<ReplicaStream> state = replica_->StreamState(batch.stream);
    if (!state.ok()) {
      std::move(pending->done)(state.status());
      return;
    }
    const uint64_t want =
        kind == ExpectedVersion::Kind::kExact ? batch.expected.version : 0;
    if (state->version == want) {
      expect_last = state->last_sequence;
    } else if (!pending->synced) {
      NeedsSync(std::move(pending));
      return;
    } else {
      bool any_recorded = false;
      for (const v1::Event& event : batch.events) {
        absl::StatusOr<v1::RecordedEvent> known = replica_->GetEvent(event.id());
        any_recorded = any_recorded || !absl::IsNotFound(known.status());
      }
      if (!any_recorded) {
        std::move(pending->done)(rpc::WrongExpectedVersion(
            batch.stream, batch.expected.ToString(), state->version));
        return;
      }
      pending->unchecked = true;  // a retry, maybe: the writer decides
    }
  }

  natsMsg* msg = nullptr;
  const std::string subject = client_->SubjectOf(batch.stream);
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, pending->payload.data(),
                     static_cast<int>(pending->payload.size()));
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(msg, "Nats-Msg-Id", pending->msg_id.c_str());
  }
  if (s == NATS_OK && expect_last.has_value()) {
    s = natsMsgHeader_Set(msg, "Nats-Expected-Last-Subject-Sequence",
                           absl::StrCat(*expect_last).c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    std::move(pending->done)(FromNats(s, "build the append's message"));
    return;
  }
  if (pending->first_try == absl::InfinitePast()) {
    pending->first_try = absl::Now();
  }
  const natsMsg* key = msg;
  {
    absl::MutexLock lock(&mu_);
    in_flight_[key] = std::move(pending);
  }
  jsPubOptions publish;
  jsPubOptions_Init(&publish);
  publish.MaxWait = absl::ToInt64Milliseconds(options_.nats.request_timeout);
  s = js_PublishMsgAsync(client_->js(), &msg, &publish);
  if (s != NATS_OK) {
    // Not sent: the acknowledgment handler never hears of it.
    natsMsg_Destroy(msg);
    {
      absl::MutexLock lock(&mu_);
      auto it = in_flight_.find(key);
      if (it == in_flight_.end()) return;
      pending = std::move(it->second);
      in_flight_.erase(it);
    }
    std::move(pending->done)(FromNats(s, "publish the append"));
  }
}

void JetStreamLog::NeedsSync(std::unique_ptr<Pending> pending) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      to_sync_.push_back(std::move(pending));
      return;
    }
  }
  std::move(pending->done)(MaybeRecorded(
      absl::UnavailableError("event log closed before the append was taken")));
}

void JetStreamLog::SyncLoop() {
  for (;;) {
    std::unique_ptr<Pending> pending;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || !to_sync_.empty();
      };
      mu_.Await(absl::Condition(&work));
      if (to_sync_.empty()) return;
      pending = std::move(to_sync_.front());
      to_sync_.pop_front();
    }
    if (pending->retry_at != absl::InfinitePast()) {
      // Only waiting to be published again.
      {
        absl::MutexLock lock(&mu_);
        auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return closed_;
        };
        mu_.AwaitWithDeadline(absl::Condition(&closed), pending->retry_at);
        pending->retry_at = absl::InfinitePast();
        if (!closed_) {
          to_publish_.push_back(std::move(pending));
          continue;
        }
      }
      std::move(pending->done)(MaybeRecorded(absl::UnavailableError(
          "event log closed while JetStream had no leader for the stream")));
      continue;
    }
    absl::StatusOr<uint64_t> last = client_->LastSequence();
    absl::Status failed = last.status();
    if (failed.ok() &&
        !results_.AwaitApplied(
            *last, absl::Now() + 2 * options_.nats.request_timeout)) {
      failed = absl::UnavailableError(absl::StrCat(
          "the replica has not applied the log of record up to sequence ",
          *last, " in time to check the expected version"));
    }
    if (!failed.ok()) {
      std::move(pending->done)(failed);
      continue;
    }
    pending->synced = true;
    {
      absl::MutexLock lock(&mu_);
      if (!closed_) {
        to_publish_.push_back(std::move(pending));
        continue;
      }
    }
    std::move(pending->done)(absl::UnavailableError("event log is closed"));
  }
}

void JetStreamLog::OnPublishAck(jsCtx*, natsMsg* msg, jsPubAck* ack,
                                jsPubAckErr* error, void* closure) {
  static_cast<JetStreamLog*>(closure)->Acknowledged(msg, ack, error);
  natsMsg_Destroy(msg);
}

void JetStreamLog::Acknowledged(natsMsg* msg, jsPubAck* ack,
                                jsPubAckErr* error) {
  std::unique_ptr<Pending> pending;
  {
    absl::MutexLock lock(&mu_);
    auto it = in_flight_.find(msg);
    if (it == in_flight_.end()) return;
    pending = std::move(it->second);
    in_flight_.erase(it);
  }
  if (ack != nullptr) {
    const uint64_t sequence = ack->Sequence;
    const bool duplicate = ack->Duplicate;
    results_.WhenApplied(
        sequence, [this, sequence, duplicate, pending = std::move(pending)](
                      absl::StatusOr<AppendResult> answer) mutable {
          if (duplicate && !answer.ok()) {
            // The same batch was refused at `sequence`, or its answer is not
            // known here (it was applied before this process started): this
            // one is decided anew, at its own place. The writer answers a
            // recorded batch with its positions, and a refusal may no
            // longer hold.
            absl::StrAppend(&pending->msg_id, "/", sequence);
            absl::MutexLock lock(&mu_);
            if (!closed_) {
              to_publish_.push_back(std::move(pending));
              return;
            }
            answer = absl::UnavailableError("event log is closed");
          }
          if (duplicate && answer.ok()) answer->already_recorded = true;
          std::move(pending->done)(std::move(answer));
        });
    return;
  }
  if (error != nullptr && error->ErrCode == JSStreamWrongLastSequenceErr) {
    // Another append reached the stream first.
    pending->synced = false;
    if (++pending->syncs >= kMaxSyncs) pending->unchecked = true;
    NeedsSync(std::move(pending));
    return;
  }
  const natsStatus err = error != nullptr ? error->Err : NATS_ERR;
  const jsErrCode code =
      error != nullptr ? error->ErrCode : static_cast<jsErrCode>(0);
  if (code == 0 && (err == NATS_NO_RESPONDERS || err == NATS_TIMEOUT) &&
      absl::Now() - pending->first_try < kRetryFor) {
    pending->retry_at = absl::Now() + kRetryPause;
    NeedsSync(std::move(pending));
    return;
  }
  absl::Status status = FromNats(err, "publish the append", code);
  if (error != nullptr && error->ErrText != nullptr) {
    status = absl::Status(status.code(),
                          absl::StrCat(status.message(), ": ", error->ErrText));
  }
  // Without JetStream's refusal the message may have been stored.
  std::move(pending->done)(code == 0 ? MaybeRecorded(status) : status);
}

absl::Status JetStreamLog::Writable() const {
  const ReplicationProgress progress =
      replicator_ != nullptr ? replicator_->Progress() : ReplicationProgress();
  absl::MutexLock lock(&watch_mu_);
  if (!replica_writable_.ok()) return replica_writable_;
  absl::Status standing;
  if (!connected_) {
    standing = absl::UnavailableError(
        "no connection to NATS: appends cannot reach the log of record");
  } else if (!progress.error.ok()) {
    standing = absl::UnavailableError(absl::StrCat(
        "cannot read the log of record: ", progress.error.message()));
  } else if (progress.behind() > options_.max_behind) {
    standing = absl::UnavailableError(absl::StrCat(
        "the replica is ", progress.behind(),
        " appends behind the log of record (more than ", options_.max_behind,
        ")"));
  }
  if (!standing.ok()) standing.SetPayload(kReplicaStandingPayload, absl::Cord());
  return standing;
}

void JetStreamLog::UpdateWritable() {
  const absl::Status now = Writable();
  absl::MutexLock lock(&watch_mu_);
  if (told_.has_value() && *told_ == now) return;
  told_ = now;
  if (listener_) listener_(now);
}

void JetStreamLog::WatchWritable(
    std::function<void(const absl::Status&)> listener) {
  const absl::Status now = Writable();
  absl::MutexLock lock(&watch_mu_);
  listener_ = std::move(listener);
  told_ = now;
  if (listener_) listener_(now);
}

void JetStreamLog::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
  }
  if (publisher_.joinable()) publisher_.join();
  if (syncer_.joinable()) syncer_.join();
  if (client_ != nullptr) {
    // Acknowledgments of what was published still come, and the replica
    // still applies them.
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = absl::ToInt64Milliseconds(options_.nats.request_timeout);
    js_PublishAsyncComplete(client_->js(), &wait);
  }
  absl::flat_hash_map<const natsMsg*, std::unique_ptr<Pending>> unanswered;
  {
    absl::MutexLock lock(&mu_);
    unanswered.swap(in_flight_);
  }
  for (auto& [msg, pending] : unanswered) {
    std::move(pending->done)(MaybeRecorded(
        absl::UnavailableError("event log closed before JetStream answered")));
  }
  if (replicator_ != nullptr) replicator_->Stop();
  results_.Close(MaybeRecorded(
      absl::UnavailableError("event log closed before the replica applied it")));
  replica_->WatchWritable(nullptr);
  client_.reset();
  replica_->Close();
}

}  // namespace annals::storage::jetstream
