#include "services/server/server_info.h"

#include "annals_commit.h"
#include "google/protobuf/util/time_util.h"
#include "services/rpc/unary_reactor.h"

namespace annals::services {

v1::GetServerInfoResponse ServerInfoOf(const ServerFacts& facts,
                                       const storage::EventLog& log,
                                       bool writable) {
  v1::GetServerInfoResponse info;
  info.set_version(ANNALS_VERSION);
  info.set_commit(ANNALS_COMMIT);
  *info.mutable_started_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(facts.started_at));
  info.set_head_position(log.GetHead().position);
  info.set_durability(facts.durability);
  info.set_projection_version(facts.projection_version);
  info.set_writable(writable);
  return info;
}

grpc::ServerUnaryReactor* ServerInfoService::GetServerInfo(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetServerInfoRequest, v1::GetServerInfoResponse>(
      access_->Check(*context, "/annals.v1.ServerInfo/GetServerInfo").status(),
      context, request, response,
      [this](const v1::GetServerInfoRequest&)
          -> absl::StatusOr<v1::GetServerInfoResponse> {
        return ServerInfoOf(facts_, *log_, writable_->load());
      });
}

}  // namespace annals::services
