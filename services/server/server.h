// The annalsd gRPC server: the annals services, gRPC health checking and
// server reflection, over one storage::EventLog.
#ifndef ANNALS_SERVICES_SERVER_SERVER_H_
#define ANNALS_SERVICES_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/admin/service.h"
#include "services/admission/admission.h"
#include "services/audit/service.h"
#include "services/auth/authenticator.h"
#include "services/auth/call_access.h"
#include "services/audit/signer.h"
#include "services/event_log/service.h"
#include "services/metrics/server_metrics.h"
#include "services/server/position_gate.h"
#include "services/subscriptions/hub.h"
#include "services/subscriptions/service.h"
#include "services/relationships/partial_keeper.h"
#include "services/relationships/service.h"
#include "services/server/reflection_v1.h"
#include "services/server/server_info.h"
#include "services/model/validation.h"
#include "storage/event_log.h"

namespace annals::services {

// The port annalsd listens on unless told otherwise.
inline constexpr int kDefaultPort = 7465;

struct ServerOptions {
  // "HOST:PORT" to listen on; port 0 picks a free port (see Server::port).
  // Empty: no listening socket, in-process channel only (tests).
  std::string listen = "127.0.0.1:7465";
  // The credentials to listen with (TlsCredentials::ServerCredentials,
  // services/transport/tls_credentials.h). Null: plaintext, which Start
  // refuses on an address that is not loopback unless
  // allow_insecure_listen.
  std::shared_ptr<grpc::ServerCredentials> tls;
  bool allow_insecure_listen = false;
  // Authentication and roles (services/auth/authenticator.h); must outlive
  // the server. Null: off, every caller may call everything.
  auth::Authenticator* authenticator = nullptr;
  // Whether to serve gRPC server reflection (grpc.reflection.v1 and
  // v1alpha, to every caller). Health checking is always served, to every
  // caller.
  bool reflection = true;
  // Counts and times every RPC (ServerMetrics::InterceptorFactory); must
  // outlive the server. Null: not measured.
  metrics::ServerMetrics* metrics = nullptr;
  // Holds calls that carry annals-min-position until the log reaches it
  // (PositionGate); must outlive the server. None: the header is ignored.
  PositionGate* position_gate = nullptr;
  // Request size limits.
  Limits limits;
  // The window of each EventLog.AppendSession stream.
  AppendSessionOptions append_session;
  // What one client may hold at once: streams per connection, request
  // bytes in flight (services/admission/admission.h).
  AdmissionOptions admission;
  // HTTP/2 keepalive for long-lived streams (subscriptions) behind proxies
  // and NATs: the server pings an idle connection every `keepalive_time`
  // and drops it when the ping is not answered within `keepalive_timeout`.
  // Clients may ping as often as every `min_client_ping_interval`, also
  // with no call open; more often and the server closes the connection
  // (GOAWAY "too_many_pings"). See README.md.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Signs the Audit service's tree heads and those written beside backups;
  // must outlive the server. Not owned. Default none: the server makes a
  // key of its own, in memory only.
  const TreeHeadSigner* signer = nullptr;
  // GetRelationship's kept answers: those of the log's projector
  // (RelationshipProjector::answers), never another's. Not owned; must
  // outlive the server. Default none: every answer is read from storage.
  const RelationshipAnswers* relationship_answers = nullptr;
  // Once the log has been idle this long, keep the year partials of every
  // dyad current in the background (services/relationships/
  // partial_keeper.h), and the answers of relationship_answers. nullopt:
  // never; a state as of a date then folds and keeps them itself, when
  // first asked, and an answer is kept when first asked.
  std::optional<absl::Duration> keep_year_partials_after = absl::Seconds(1);
  // Unary calls that take at least this long are logged, one line each
  // (services/server/slow_calls.h); zero: every unary call. nullopt: none.
  std::optional<absl::Duration> slow_request = absl::Seconds(1);
  // What ServerInfo.GetServerInfo says of the server beyond its log's head.
  ServerFacts facts;
};

class Server {
 public:
  // Starts serving `log`, which must outlive the server. The relationship
  // queries need the log to keep a RelationshipProjector
  // (services/relationships/projector.h). UNAVAILABLE when
  // the address cannot be bound, naming it; FAILED_PRECONDITION when it is
  // not loopback and the options have no TLS (see ServerOptions::tls).
  //
  // With a `hub` the Subscriptions service is served too: the log must have
  // been opened with hub->CommitListener() as LogOptions::on_commit; Start
  // attaches the hub to the log; the hub must outlive the server (and the
  // log). Without one, Subscriptions calls get UNIMPLEMENTED.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, storage::EventLog* log,
      SubscriptionHub* hub = nullptr);

  ~Server();

  // The port actually bound (0 when not listening).
  int port() const { return port_; }

  // A channel to this server that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // The HTTP gateway's way in (services/http): an in-process channel, and
  // the key that seals the calls it makes for its clients
  // (auth::CallAccess).
  struct GatewayChannel {
    std::shared_ptr<grpc::Channel> channel;
    std::string key;
  };
  GatewayChannel Gateway();

  // Graceful shutdown: reports NOT_SERVING, ends every subscription with
  // UNAVAILABLE, ends every append session with UNAVAILABLE once it has
  // answered the requests it read, stops taking new calls, lets calls in
  // flight finish until `deadline` and cancels the rest, then closes the log (which commits
  // everything queued) and waits until no subscription work touches it.
  // Appends in flight are therefore committed or failed, never
  // half-written. Idempotent.
  void Shutdown(absl::Duration deadline);

 private:
  Server(storage::EventLog* log, const ServerOptions& options,
         SubscriptionHub* hub);

  storage::EventLog* const log_;
  SubscriptionHub* const hub_;  // may be null
  const std::string gateway_key_;
  const auth::CallAccess access_;
  // Whether appends can succeed (storage::EventLog::WatchWritable).
  std::atomic<bool> writable_{true};
  Admission admission_;
  EventLogService event_log_service_;
  RelationshipsService relationships_service_;
  ServerInfoService server_info_service_;
  std::unique_ptr<TreeHeadSigner> own_signer_;  // when options.signer is null
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<PartialKeeper> partial_keeper_;  // stopped before the log closes
  std::unique_ptr<AdminService> admin_service_;  // with audit_service_
  std::unique_ptr<SubscriptionService> subscription_service_;  // with hub_
  std::unique_ptr<ReflectionV1Service> reflection_v1_;  // with reflection
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_SERVER_H_
