#include "services/server/server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace annals::services {
namespace {

// Larger than any request the limits accept, so that oversize appends get
// our RESOURCE_EXHAUSTED naming the field rather than gRPC's.
int MaxReceiveBytes(const Limits& limits) {
  const size_t bytes = limits.max_append_events * (limits.max_event_bytes + 16) +
                       (1 << 20);
  return bytes > (1u << 30) ? (1 << 30) : static_cast<int>(bytes);
}

int Millis(absl::Duration d) {
  return static_cast<int>(absl::ToInt64Milliseconds(d));
}

// Why gRPC could not listen on `address` (HOST:PORT, [V6]:PORT): binds a
// socket to it the way gRPC does and says what the system said ("address
// already in use"), or that it is not a HOST:PORT.
std::string WhyCannotListen(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "not a HOST:PORT";
  absl::string_view host(address.data(), colon);
  host = absl::StripSuffix(absl::StripPrefix(host, "["), "]");
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string node(host);
  const int resolved = getaddrinfo(node.empty() ? nullptr : node.c_str(),
                                   port.c_str(), &hints, &found);
  if (resolved != 0) {
    return absl::StrCat("not a valid HOST:PORT (", gai_strerror(resolved), ")");
  }
  std::string why = "the address cannot be bound";
  const int fd = socket(found->ai_family, found->ai_socktype, 0);
  if (fd >= 0) {
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
      why = errno == EADDRINUSE
                ? "the address is in use (another annalsd, or another "
                  "program, listens on it)"
                : std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

}  // namespace

Server::Server(storage::EventLog* log, const ServerOptions& options,
               SubscriptionHub* hub)
    : log_(log),
      hub_(hub),
      admission_(options.admission),
      event_log_service_(log, options.limits, options.append_session,
                         &admission_),
      relationships_service_(log, options.relationship_answers),
      admin_service_(log) {
  const TreeHeadSigner* signer = options.signer;
  if (signer == nullptr) {
    absl::StatusOr<std::unique_ptr<TreeHeadSigner>> own =
        TreeHeadSigner::Generate();
    if (own.ok()) own_signer_ = *std::move(own);
    signer = own_signer_.get();
  }
  if (signer != nullptr) {
    audit_service_ = std::make_unique<AuditService>(log_, signer);
  }
  if (hub_ != nullptr) {
    hub_->Attach(log_);
    subscription_service_ =
        std::make_unique<SubscriptionService>(hub_, &admission_);
  }
}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, storage::EventLog* log,
    SubscriptionHub* hub) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(
      new Server(log, options, hub));
  if (server->audit_service_ == nullptr) {
    return absl::InternalError("cannot generate a tree head signing key");
  }
  grpc::ServerBuilder builder;
  if (!options.listen.empty()) {
    builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                             &server->port_);
  }
  builder.RegisterService(&server->event_log_service_);
  builder.RegisterService(&server->relationships_service_);
  builder.RegisterService(&server->admin_service_);
  builder.RegisterService(server->audit_service_.get());
  if (server->subscription_service_ != nullptr) {
    builder.RegisterService(server->subscription_service_.get());
  }
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(options.min_client_ping_interval));
  // Pings need not wait for data: a quiet subscription has none to send.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // One server per address: without this gRPC sets SO_REUSEPORT, and a
  // second annalsd on the same port would start and take part of the
  // traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(MaxReceiveBytes(options.limits));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr ||
      (!options.listen.empty() && server->port_ == 0)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen, ": ",
        WhyCannotListen(options.listen)));
  }
  // SERVING while appends can succeed; NOT_SERVING while the log's storage
  // has failed (a full disk, an I/O error) until it is back.
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  log->WatchWritable([health](const absl::Status& writable) {
    health->SetServingStatus(writable.ok());
  });
  return server;
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void Server::Shutdown(absl::Duration deadline) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  log_->WatchWritable(nullptr);
  server_->GetHealthCheckService()->SetServingStatus(false);
  // Subscriptions never end by themselves: end them first, so that they
  // need not wait for the deadline.
  if (hub_ != nullptr) hub_->Shutdown();
  // Sessions neither: they answer what they read, then end.
  event_log_service_.Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
  log_->Close();
  server_->Wait();
  if (hub_ != nullptr) hub_->Drain();
}

}  // namespace annals::services
