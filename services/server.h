// The annalsd gRPC server: the annals services, gRPC health checking and
// server reflection, over one storage::EventLog.
#ifndef ANNALS_SERVICES_SERVER_H_
#define ANNALS_SERVICES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/event_log_service.h"
#include "services/relationship_service.h"
#include "services/validation.h"
#include "storage/event_log.h"

namespace annals::services {

// The port annalsd listens on unless told otherwise.
inline constexpr int kDefaultPort = 7465;

struct ServerOptions {
  // "HOST:PORT" to listen on; port 0 picks a free port (see Server::port).
  // Empty: no listening socket, in-process channel only (tests).
  std::string listen = "127.0.0.1:7465";
  // Request size limits.
  Limits limits;
};

class Server {
 public:
  // Starts serving `log`, which must outlive the server. The relationship
  // queries need the log to keep a RelationshipProjector
  // (services/relationship_projector.h). UNAVAILABLE when
  // the address cannot be bound, naming it.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, storage::EventLog* log);

  ~Server();

  // The port actually bound (0 when not listening).
  int port() const { return port_; }

  // A channel to this server that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Graceful shutdown: reports NOT_SERVING, stops taking new calls, lets
  // calls in flight finish until `deadline` and cancels the rest, then
  // closes the log (which commits everything queued). Appends in flight
  // are therefore committed or failed, never half-written. Idempotent.
  void Shutdown(absl::Duration deadline);

 private:
  Server(storage::EventLog* log, const Limits& limits);

  storage::EventLog* const log_;
  EventLogService event_log_service_;
  RelationshipsService relationships_service_;
  AdminService admin_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_H_
