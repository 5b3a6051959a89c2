// annalsd's connection to the NATS cluster that holds the log of record:
// the connection (servers, credentials, TLS, reconnecting for ever), its
// JetStream context, and the stream, created on first use with the
// settings of a log of record. Wraps the C client, libnats 3.4.1 (Debian's
// libnats-dev), which no C++ library in Debian wraps.
#ifndef ANNALS_STORAGE_JETSTREAM_NATS_CLIENT_H_
#define ANNALS_STORAGE_JETSTREAM_NATS_CLIENT_H_

#include <nats/nats.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace annals::storage::jetstream {

struct NatsOptions {
  // nats://HOST:PORT (or tls://) URLs of the cluster's servers; the client
  // learns the others from them.
  std::vector<std::string> servers;
  // The JetStream stream that is the log of record; its subjects are
  // "annals.<stream>.<stream token>" (log_entry.h, SubjectToken).
  std::string stream = "ANNALS";
  // Replicas of the stream when it is created (a quorum acknowledges).
  int replicas = 3;
  // How long JetStream remembers message ids to drop a retried append.
  absl::Duration dedupe_window = absl::Hours(6);
  // A NATS credentials file (JWT and NKey seed), or "".
  std::string creds_file;
  // PEM CA certificates to verify the servers with, and a client
  // certificate and key to present; "" for none. Any of them turns on TLS.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // How long a JetStream API request or a publish waits for its answer.
  absl::Duration request_timeout = absl::Seconds(5);
  // How long Connect keeps asking for the stream while JetStream cannot
  // answer (a cluster still forming, no leader yet, a request unanswered).
  absl::Duration start_timeout = absl::Seconds(30);
  // Most asynchronous publishes awaiting their acknowledgment.
  int64_t max_pending_publishes = 4096;
  // Called on the client's threads when the connection drops or is back,
  // with a sentence for the log; must not block. Never called once the
  // client is destroyed. May be empty.
  std::function<void(bool connected, const std::string& detail)> on_connection;
};

// A natsStatus (and the JetStream error code, when there is one) as an
// absl::Status: UNAVAILABLE for what a retry may cure (no connection, a
// timeout, no responders), FAILED_PRECONDITION or INVALID_ARGUMENT for the
// rest, with the client's last error text.
absl::Status FromNats(natsStatus status, absl::string_view doing,
                      jsErrCode code = static_cast<jsErrCode>(0));

// An open connection and its JetStream context. Thread-safe, as the C
// client's objects are.
class NatsClient {
 public:
  // Connects (waiting for the first server for up to request_timeout, then
  // reconnecting for ever) and makes sure the stream exists: created with
  // file storage, `replicas` replicas, limits retention with no limit of
  // age, size or count, deny_delete and deny_purge, and the dedupe window;
  // an existing stream must carry the subjects above. While JetStream
  // cannot answer for the stream (UNAVAILABLE), asks again every
  // kStreamRetryWait until start_timeout. `publish_ack` gets
  // every asynchronous publish's answer (jsOptions.PublishAsync.AckHandler).
  static absl::StatusOr<std::unique_ptr<NatsClient>> Connect(
      const NatsOptions& options, jsPubAckHandler publish_ack,
      void* publish_ack_closure);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  jsCtx* js() const { return js_; }
  const NatsOptions& options() const { return options_; }
  // The subject of an annals stream, and the stream's wildcard subject.
  std::string SubjectOf(absl::string_view stream) const;
  std::string AllSubjects() const;
  // The largest message the servers take (their max_payload).
  int64_t MaxPayload() const;
  bool Connected() const;
  // The stream's last sequence (0 when empty). UNAVAILABLE without a
  // connection or quorum.
  absl::StatusOr<uint64_t> LastSequence() const;

 private:
  explicit NatsClient(const NatsOptions& options) : options_(options) {}
  // EnsureStream, tried again while UNAVAILABLE (Connect).
  absl::Status OpenStream();
  absl::Status EnsureStream();
  // natsOptions_SetClosedCB's: the connection's last callback has run.
  static void OnClosed(natsConnection* connection, void* closure);

  // Longest the destructor waits for the closed callback.
  static constexpr absl::Duration kClosedWait = absl::Seconds(10);
  // The pause between tries to open the stream.
  static constexpr absl::Duration kStreamRetryWait = absl::Milliseconds(250);

  const NatsOptions options_;
  absl::Notification closed_;
  natsOptions* nats_options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace annals::storage::jetstream

#endif  // ANNALS_STORAGE_JETSTREAM_NATS_CLIENT_H_
