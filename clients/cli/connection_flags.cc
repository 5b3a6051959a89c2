#include "clients/cli/connection_flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA certificate that signed annalsd's certificate: "
          "speak TLS and check annalsd against it (default: $ANNALS_TLS_CA; "
          "none: plaintext).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of this client's certificate, for mutual TLS; needs "
          "--tls-key and --tls-ca (default: $ANNALS_TLS_CERT).");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file of the private key of --tls-cert (default: "
          "$ANNALS_TLS_KEY).");
ABSL_FLAG(std::string, tls_server_name, "",
          "The name to check annalsd's certificate for, instead of the host "
          "of --server.");
ABSL_FLAG(std::string, token, "",
          "Bearer token sent on every call (default: $ANNALS_TOKEN). A token "
          "on the command line shows in ps: prefer --token-file or the "
          "environment.");
ABSL_FLAG(uint64_t, min_position, 0,
          "Served only once the server's log holds this position: after an "
          "append on one replica of a cluster, read your write on another "
          "(waits up to --timeout).");
ABSL_FLAG(std::string, token_file, "",
          "File whose first line is the bearer token.");

namespace annals {
namespace {

// `flag` if it is set, else environment variable `env`, else "".
std::string FlagOrEnv(const absl::Flag<std::string>& flag, const char* env) {
  std::string value = absl::GetFlag(flag);
  if (!value.empty()) return value;
  const char* from_env = std::getenv(env);
  return from_env == nullptr ? "" : from_env;
}

// The first line of `path`, without surrounding whitespace.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--token-file: cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string line;
  std::getline(file, line);
  line = std::string(absl::StripAsciiWhitespace(line));
  if (line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file: the first line of ", path,
                     " is empty; expected the "
                     "token"));
  }
  return line;
}

}  // namespace

absl::Status ApplyConnectionFlags(ClientOptions* options) {
  options->tls_ca = FlagOrEnv(FLAGS_tls_ca, "ANNALS_TLS_CA");
  options->tls_cert = FlagOrEnv(FLAGS_tls_cert, "ANNALS_TLS_CERT");
  options->tls_key = FlagOrEnv(FLAGS_tls_key, "ANNALS_TLS_KEY");
  options->tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options->min_position = absl::GetFlag(FLAGS_min_position);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (token_file.empty()) {
    options->token = FlagOrEnv(FLAGS_token, "ANNALS_TOKEN");
    return absl::OkStatus();
  }
  if (!absl::GetFlag(FLAGS_token).empty()) {
    return absl::InvalidArgumentError(
        "--token and --token-file: give one of them, not both");
  }
  absl::StatusOr<std::string> token = ReadTokenFile(token_file);
  if (!token.ok()) return token.status();
  options->token = *std::move(token);
  return absl::OkStatus();
}

std::string ConnectionFlagError(const absl::Status& status) {
  const absl::string_view message = status.message();
  for (absl::string_view field :
       {"tls_ca", "tls_cert", "tls_key", "tls_server_name", "token"}) {
    if (absl::StartsWith(message, absl::StrCat(field, ":"))) {
      return absl::StrCat("--", absl::StrReplaceAll(field, {{"_", "-"}}),
                          message.substr(field.size()));
    }
  }
  return std::string(message);
}

}  // namespace annals
