// A small C++ client of annalsd. Every call carries a deadline (the
// client's default unless the call gives one) and returns absl::Status with
// the server's error details (field violations, ErrorInfo) as payloads;
// see proto/rpc_status.h to read them.
#ifndef ANNALS_CLIENTS_CPP_CLIENT_H_
#define ANNALS_CLIENTS_CPP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "annals/v1/audit.grpc.pb.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/server_info.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace annals {

struct ClientOptions {
  // "HOST:PORT" of annalsd.
  std::string server = "localhost:7465";
  // Deadline of every call that does not give its own (default 10 s).
  absl::Duration deadline = absl::Seconds(10);
  // HTTP/2 keepalive: ping the server after this long without traffic, and
  // give up on the connection when a ping is not answered within
  // `keepalive_timeout`, so that a subscription over a dead connection (a
  // proxy or NAT that dropped it silently) ends with UNAVAILABLE instead of
  // hanging. Must be at least the server's minimum ping interval (10 s by
  // default; see README.md). Zero: no keepalive pings. Default 30 s / 10 s.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);

  // Security (clients/cpp/credentials.h). The files are read when the
  // client is created (Client::Connect), not on each call.
  //
  // PEM file of the CA certificate that signed annalsd's certificate: the
  // client speaks TLS and checks annalsd's certificate against it. Empty
  // (default): plaintext.
  std::string tls_ca;
  // PEM files of this client's certificate and its private key, for mutual
  // TLS (annalsd --tls-client-ca). Both or neither; require tls_ca.
  std::string tls_cert;
  std::string tls_key;
  // The name to check annalsd's certificate for instead of the host of
  // `server` (e.g. "annalsd" when connecting by an address the certificate
  // does not name). Requires tls_ca. Default empty: the host.
  std::string tls_server_name;
  // Bearer token sent on every call as "authorization: Bearer TOKEN"
  // (annalsd --auth-tokens); over plaintext too. Printable ASCII without
  // spaces. Default empty: none.
  std::string token;
  // Every call is served only once the server's log holds this position
  // (annals-min-position; services/server/position_gate.h): read-your-
  // writes across the replicas of a cluster. Default 0: no wait.
  uint64_t min_position = 0;
};

// The server address the CLI uses when --server is not given: $ANNALS_SERVER,
// else localhost and annalsd's default port.
std::string DefaultServerAddress();

// A streaming append session (EventLog.AppendSession; the contract is in
// proto/annals/v1/event_log.proto): appends are pipelined on one stream and
// acknowledged in order, each once it is durable. Thread-safe; the
// destructor cancels the session when it was not finished and waits until
// it has ended.
class AppendSession {
 public:
  // Called exactly once per Append with the acknowledgement: the append's
  // response, or its error exactly as unary Append would return it, or
  // the session's status when the session ended before answering
  // (UNAVAILABLE at server shutdown or on a lost connection: retry with
  // the same event ids). Runs on a gRPC thread, in the order of the Append
  // calls; it must not block or call into the session.
  using Done = std::function<void(absl::StatusOr<v1::AppendResponse>)>;

  virtual ~AppendSession() = default;

  // Sends `request`, blocking while `window` requests (see
  // Client::OpenAppendSession) are unacknowledged. After the session ended,
  // or once Finish was called, calls `done` at once with the error.
  virtual void Append(v1::AppendRequest request, Done done) = 0;

  // Blocks until fewer than `window` requests are unacknowledged (Append
  // would not block) or the session has ended.
  virtual void WaitForRoom() = 0;

  // Half-closes, waits until every request is answered and the server has
  // ended the stream, and returns the stream's status (OK when the server
  // answered everything; the same status every unanswered `done` got
  // otherwise).
  virtual absl::Status Finish() = 0;

  // Cancels the session: unanswered appends get CANCELLED (they may or may
  // not have been recorded). Does not wait; Finish or the destructor does.
  virtual void Cancel() = 0;
};

// Thread-safe: one Client may be shared by many threads.
class Client {
 public:
  // A client of `options.server` secured as `options` says: reads the TLS
  // files now. INVALID_ARGUMENT naming the field and the file when a file
  // cannot be read or the fields do not go together (see
  // LoadClientCredentials in clients/cpp/credentials.h). Connects lazily:
  // the first call establishes the channel.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options);
  // Over an existing channel (e.g. Server::InProcessChannel in tests); a
  // token, if wanted, comes from the channel (NewTokenInterceptorFactory).
  Client(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline);

  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);
  // Append without waiting: sends `request` and returns; `done` gets what
  // Append would have returned, exactly once, on a gRPC thread (it must
  // not block). Any number may be in flight; the Client must outlive them.
  using AppendDone = std::function<void(absl::StatusOr<v1::AppendResponse>)>;
  void AppendAsync(v1::AppendRequest request, AppendDone done);
  // Append, tried again after the server's hint while it refuses only
  // momentarily (RESOURCE_EXHAUSTED with a google.rpc.RetryInfo: its
  // budget of requests in flight is taken), until `patience` has passed;
  // then that refusal. Safe: nothing of a refused request was written.
  absl::StatusOr<v1::AppendResponse> AppendWhenAdmitted(
      const v1::AppendRequest& request, absl::Duration patience);
  // Opens an append session with at most `window` (>= 1) requests
  // unacknowledged; no deadline (keepalive detects a dead connection).
  // Errors arrive through the session.
  std::unique_ptr<AppendSession> OpenAppendSession(size_t window = 64);
  absl::StatusOr<v1::ReadStreamResponse> ReadStream(
      const v1::ReadStreamRequest& request);
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& request);
  absl::StatusOr<v1::RecordedEvent> GetEvent(const std::string& id);
  // The event and its corrections.
  absl::StatusOr<v1::GetEventResponse> GetEventWithCorrections(
      const std::string& id);
  // The serving status of `service` ("" for the whole server), e.g.
  // "SERVING" or "NOT_SERVING".
  absl::StatusOr<std::string> Health(const std::string& service = "");

  // The Relationships service (proto/annals/v1/query.proto).
  absl::StatusOr<v1::GetRelationshipResponse> GetRelationship(
      const v1::GetRelationshipRequest& request);
  // The same, into `response`, which may live on a protobuf Arena: a large
  // state (hundreds of records) then parses without a heap allocation per
  // field, about half of a client's time per call with one.
  absl::Status GetRelationship(const v1::GetRelationshipRequest& request,
                               v1::GetRelationshipResponse* response);
  absl::StatusOr<v1::ListRelationshipsResponse> ListRelationships(
      const v1::ListRelationshipsRequest& request);
  absl::StatusOr<v1::QueryTimelineResponse> QueryTimeline(
      const v1::QueryTimelineRequest& request);
  // The Admin service. A rebuild replays the whole log (about a second per
  // 50,000 events), so it has its own deadline rather than the client's.
  absl::StatusOr<v1::RebuildProjectionsResponse> RebuildProjections(
      const v1::RebuildProjectionsRequest& request,
      absl::Duration deadline = absl::Minutes(10));
  // The first backup into a directory copies the whole log, so a backup
  // has its own deadline too.
  absl::StatusOr<v1::CreateBackupResponse> CreateBackup(
      const v1::CreateBackupRequest& request,
      absl::Duration deadline = absl::Minutes(30));

  // The Subscriptions service (proto/annals/v1/subscription.proto). Each
  // follows one stream, blocking, with no deadline: it calls `on_message`
  // for every message, in order, until `on_message` returns false (then
  // cancels the call and returns OK) or the call ends (then returns its
  // status: UNAVAILABLE when the connection or the server went away —
  // resume from the last position received plus one).
  absl::Status Subscribe(
      const v1::SubscribeRequest& request,
      const std::function<bool(const v1::SubscribeResponse&)>& on_message);
  absl::Status WatchRelationship(
      const v1::WatchRelationshipRequest& request,
      const std::function<bool(const v1::WatchRelationshipResponse&)>&
          on_message);

  // The Audit service (proto/annals/v1/audit.proto).
  absl::StatusOr<v1::SignedTreeHead> GetTreeHead();
  absl::StatusOr<v1::ProveInclusionResponse> ProveInclusion(uint64_t position,
                                                            uint64_t tree_size);
  absl::StatusOr<v1::ProveConsistencyResponse> ProveConsistency(
      uint64_t old_size, uint64_t new_size);
  absl::StatusOr<v1::GetPublicKeyResponse> GetPublicKey();
  absl::StatusOr<v1::ReadStoredResponse> ReadStored(uint64_t from_position,
                                                    uint32_t max_count);

  // The ServerInfo service (proto/annals/v1/server_info.proto): the
  // server's version, commit, start, head and durability.
  absl::StatusOr<v1::GetServerInfoResponse> GetServerInfo();

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  // A context whose deadline is now + deadline_.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // A context whose deadline is now + `deadline`.
  static std::unique_ptr<grpc::ClientContext> NewContext(
      absl::Duration deadline);

  // Constant after construction.
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventLog::Stub> event_log_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<v1::Relationships::Stub> relationships_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Subscriptions::Stub> subscriptions_;
  std::unique_ptr<v1::Audit::Stub> audit_;
  std::unique_ptr<v1::ServerInfo::Stub> server_info_;
  absl::Duration deadline_;
};

}  // namespace annals

#endif  // ANNALS_CLIENTS_CPP_CLIENT_H_
