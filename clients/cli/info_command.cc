#include "clients/cli/info_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cli/cli_common.h"
#include "google/protobuf/util/time_util.h"
#include "proto/control_characters.h"

namespace annals {
namespace {

// "3h12m", "45s": the uptime to the second.
std::string Uptime(absl::Duration up) {
  return absl::FormatDuration(absl::Trunc(up, absl::Seconds(1)));
}

absl::string_view DurabilityName(v1::GetServerInfoResponse::Durability d) {
  switch (d) {
    case v1::GetServerInfoResponse::DURABILITY_SYNC:
      return "sync";
    case v1::GetServerInfoResponse::DURABILITY_BUFFERED:
      return "buffered";
    default:
      return "unknown";
  }
}

}  // namespace

std::string FormatServerInfo(const v1::GetServerInfoResponse& info,
                             absl::Time now) {
  const absl::Time started = absl::FromUnixMicros(
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(
          info.started_at()));
  return absl::StrCat(
      "annalsd ", info.version(), " (commit ", info.commit(), ")\n",
      "started      ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", started, absl::UTCTimeZone()),
      " (up ", Uptime(now - started), ")\n",
      "head         position ", info.head_position(), "\n",
      "durability   ", DurabilityName(info.durability()), "\n",
      "projections  ", info.projection_version(), "\n",
      "writable     ", info.writable() ? "yes" : "no (storage has failed)",
      "\n");
}

int InfoCommand(Client& client, const std::vector<char*>& args,
                const CommonFlags& flags) {
  if (!args.empty()) return UsageError(std::cerr, "info takes no arguments");
  absl::StatusOr<v1::GetServerInfoResponse> info = client.GetServerInfo();
  if (!info.ok()) return ServerError(std::cerr, info.status());
  if (flags.json) {
    std::cout << ToJson(*info) << "\n";
  } else {
    std::cout << EscapeControlCharacters(FormatServerInfo(*info, absl::Now()),
                                         /*keep_newline_and_tab=*/true);
  }
  return 0;
}

}  // namespace annals
