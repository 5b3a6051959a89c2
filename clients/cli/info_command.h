// `annals info`: what the server is (ServerInfo.GetServerInfo,
// proto/annals/v1/server_info.proto), one field per line:
//
//   annalsd 0.1.0 (commit 1a2b3c4d5e6f)
//   started      2026-12-05T17:40:01Z (up 3h12m)
//   head         position 89
//   durability   sync
//   projections  relationships/9
//   writable     yes
//
// With --json, the response in canonical protobuf JSON on one line. Exit
// codes as every command's (relationship_commands.h).
#ifndef ANNALS_CLIENTS_CLI_INFO_COMMAND_H_
#define ANNALS_CLIENTS_CLI_INFO_COMMAND_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "annals/v1/server_info.pb.h"
#include "clients/cli/relationship_commands.h"
#include "clients/cpp/client.h"

namespace annals {

int InfoCommand(Client& client, const std::vector<char*>& args,
                const CommonFlags& flags);

// The text `annals info` prints for `info`, its uptime counted to `now`.
std::string FormatServerInfo(const v1::GetServerInfoResponse& info,
                             absl::Time now);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_INFO_COMMAND_H_
