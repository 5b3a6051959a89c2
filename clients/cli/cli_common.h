// What every `annals` command shares: errors with their exit codes, JSON
// output, list flags. One definition for annals_main.cc and the command
// files.
#ifndef ANNALS_CLIENTS_CLI_CLI_COMMON_H_
#define ANNALS_CLIENTS_CLI_CLI_COMMON_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "proto/rpc_status.h"

namespace annals {

// Exit code of a usage or input error of the command line.
inline constexpr int kUsageExit = 2;
// Exit code of an error the server (or the connection) returned.
inline constexpr int kServerErrorExit = 1;

// Writes "annals: <message>" and a pointer to --help; returns kUsageExit.
inline int UsageError(std::ostream& err, absl::string_view message) {
  err << "annals: " << message << "\n(see annals --help)\n";
  return kUsageExit;
}

// Writes the status as one line "CODE: message"; returns kServerErrorExit.
inline int ServerError(std::ostream& err, const absl::Status& status) {
  err << rpc::OneLine(status) << "\n";
  return kServerErrorExit;
}

// `message` in protobuf's canonical JSON mapping, on one line.
inline std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

// The entries of comma lists ("--kind meeting,statement --kind sanction"),
// empty entries left out.
inline std::vector<std::string> SplitLists(
    const std::vector<std::string>& lists) {
  std::vector<std::string> items;
  for (const std::string& list : lists) {
    for (absl::string_view item :
         absl::StrSplit(list, ',', absl::SkipEmpty())) {
      items.emplace_back(item);
    }
  }
  return items;
}

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_CLI_COMMON_H_
