#include "services/server/server.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "log/log.h"
#include "services/transport/listen_address.h"
#include "services/server/slow_calls.h"

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

// Leaves gRPC server reflection out of the server it is set on (the plugin
// is registered for every server of the process).
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins)
      override {
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [](const auto& plugin) {
                         return plugin->name() == "proto_server_reflection";
                       }),
        plugins->end());
  }
};

}  // namespace

Server::Server(storage::EventLog* log, const ServerOptions& options,
               SubscriptionHub* hub)
    : log_(log),
      hub_(hub),
      gateway_key_(auth::NewGatewayKey()),
      access_(options.authenticator, gateway_key_),
      admission_(options.admission),
      event_log_service_(log, options.limits, options.append_session,
                         &access_, &admission_),
      relationships_service_(log, &access_, options.relationship_answers),
      server_info_service_(log, &access_, options.facts, &writable_) {
  const TreeHeadSigner* signer = options.signer;
  if (signer == nullptr) {
    absl::StatusOr<std::unique_ptr<TreeHeadSigner>> own =
        TreeHeadSigner::Generate();
    if (own.ok()) own_signer_ = *std::move(own);
    signer = own_signer_.get();
  }
  if (signer != nullptr) {
    audit_service_ = std::make_unique<AuditService>(log_, signer, &access_);
    admin_service_ = std::make_unique<AdminService>(log_, signer, &access_);
  }
  if (options.keep_year_partials_after.has_value()) {
    partial_keeper_ = std::make_unique<PartialKeeper>(
        log_, *options.keep_year_partials_after, options.relationship_answers);
  }
  if (hub_ != nullptr) {
    hub_->Attach(log_);
    subscription_service_ =
        std::make_unique<SubscriptionService>(hub_, &access_, &admission_);
  }
}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, storage::EventLog* log,
    SubscriptionHub* hub) {
  if (!options.listen.empty()) {
    absl::Status secure =
        CheckListenSecurity(options.listen, options.tls != nullptr,
                            options.allow_insecure_listen);
    if (!secure.ok()) return secure;
  }
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service is not generated C++ code, so reflection, which
  // answers from the generated descriptor pool, could list it but not
  // describe it; this reference links in the generated code of the
  // vendored proto/grpc/health/v1/health.proto, and with it the descriptor.
  static_cast<void>(grpc::health::v1::HealthCheckRequest::descriptor());
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(
      new Server(log, options, hub));
  if (server->audit_service_ == nullptr) {
    return absl::InternalError("cannot generate a tree head signing key");
  }
  grpc::ServerBuilder builder;
  if (!options.listen.empty()) {
    builder.AddListeningPort(options.listen,
                             options.tls != nullptr
                                 ? options.tls
                                 : grpc::InsecureServerCredentials(),
                             &server->port_);
  }
  if (options.reflection) {
    server->reflection_v1_ = std::make_unique<ReflectionV1Service>();
    builder.RegisterService(server->reflection_v1_.get());
  } else {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  builder.RegisterService(&server->event_log_service_);
  builder.RegisterService(&server->relationships_service_);
  builder.RegisterService(server->admin_service_.get());
  builder.RegisterService(server->audit_service_.get());
  builder.RegisterService(&server->server_info_service_);
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
  // Every interceptor in one call: each SetInterceptorCreators replaces
  // the ones set before.
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  if (options.metrics != nullptr) {
    interceptors.push_back(options.metrics->InterceptorFactory());
  }
  if (options.slow_request.has_value()) {
    interceptors.push_back(
        NewSlowCallLogger(*options.slow_request, &server->access_));
  }
  if (options.position_gate != nullptr) {
    interceptors.push_back(options.position_gate->InterceptorFactory());
  }
  if (!interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr ||
      (!options.listen.empty() && server->port_ == 0)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen, ": ",
        WhyCannotListen(options.listen)));
  }
  if (server->reflection_v1_ != nullptr) {
    server->reflection_v1_->SetChannel(server->InProcessChannel());
  }
  // SERVING while appends can succeed; NOT_SERVING while the log's storage
  // has failed (a full disk, an I/O error) until it is back, and in
  // cluster mode while the replica cannot reach the log of record or is
  // too far behind it. Each change is logged: the storage's as an error,
  // a replica's standing as a warning.
  //
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  std::atomic<bool>* was_writable = &server->writable_;
  log->WatchWritable([health, was_writable](const absl::Status& writable) {
    health->SetServingStatus(writable.ok());
    if (was_writable->exchange(writable.ok()) == writable.ok()) return;
    if (writable.ok()) {
      log::Info("serving");
    } else {
      log::Write(storage::IsReplicaStanding(writable) ? log::Level::kWarning
                                                      : log::Level::kError,
                 "not_serving", {{"error", std::string(writable.message())}});
    }
  });
  return server;
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

Server::GatewayChannel Server::Gateway() {
  return GatewayChannel{InProcessChannel(), gateway_key_};
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
  partial_keeper_.reset();
  log_->Close();
  server_->Wait();
  // No call is left: the channel to the server goes before the server.
  if (reflection_v1_ != nullptr) reflection_v1_->SetChannel(nullptr);
  if (hub_ != nullptr) hub_->Drain();
}

}  // namespace annals::services
