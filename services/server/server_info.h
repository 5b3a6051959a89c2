// The annals.v1.ServerInfo gRPC service (proto/annals/v1/server_info.proto):
// the version and commit annalsd was built from, when it started, its
// log's head, how it makes appends durable, and whether they can succeed.
// Open to every authenticated principal; served raw, its request parsed
// through services/rpc like every method's.
#ifndef ANNALS_SERVICES_SERVER_SERVER_INFO_H_
#define ANNALS_SERVICES_SERVER_SERVER_INFO_H_

#include <atomic>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/server_info.grpc.pb.h"
#include "services/auth/call_access.h"
#include "storage/event_log.h"

namespace annals::services {

// What GetServerInfo says of a server beyond its log's head.
struct ServerFacts {
  // When the process started.
  absl::Time started_at = absl::Now();
  // How the log was opened (storage::LogOptions::sync).
  v1::GetServerInfoResponse::Durability durability =
      v1::GetServerInfoResponse::DURABILITY_SYNC;
  // The log's projector's version (storage::Projector::Version); empty
  // without one.
  std::string projection_version;
};

// The answer of GetServerInfo: `facts`, the version and commit of this
// build, and the head of `log` now.
v1::GetServerInfoResponse ServerInfoOf(const ServerFacts& facts,
                                       const storage::EventLog& log,
                                       bool writable);

class ServerInfoService final
    : public v1::ServerInfo::WithRawCallbackMethod_GetServerInfo<
          v1::ServerInfo::Service> {
 public:
  // `log`, `access` and `writable` (whether appends can succeed now) must
  // outlive the service. Thread-safe.
  ServerInfoService(const storage::EventLog* log,
                    const auth::CallAccess* access, ServerFacts facts,
                    const std::atomic<bool>* writable)
      : log_(log),
        access_(access),
        facts_(std::move(facts)),
        writable_(writable) {}

  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;

 private:
  const storage::EventLog* const log_;
  const auth::CallAccess* const access_;
  const ServerFacts facts_;
  const std::atomic<bool>* const writable_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_SERVER_INFO_H_
