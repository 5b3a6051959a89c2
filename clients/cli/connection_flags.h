// The flags of every annals program that talks to annalsd, beyond --server:
// TLS and the bearer token (--tls-ca, --tls-cert, --tls-key,
// --tls-server-name, --token, --token-file). Defined once, here, so that
// annals and annals-bench take the same ones.
#ifndef ANNALS_CLIENTS_CLI_CONNECTION_FLAGS_H_
#define ANNALS_CLIENTS_CLI_CONNECTION_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "clients/cpp/client.h"

namespace annals {

// Sets the TLS and token fields of `options` from the flags, or from the
// environment where a flag is not given ($ANNALS_TLS_CA, $ANNALS_TLS_CERT,
// $ANNALS_TLS_KEY, $ANNALS_TOKEN), reading --token-file's first line.
// INVALID_ARGUMENT naming the flag when --token and --token-file are both
// given, or the token file cannot be read or its first line is empty. The
// TLS files are read later, by LoadClientCredentials / Client::Connect.
absl::Status ApplyConnectionFlags(ClientOptions* options);

// The message of `status`, an error of LoadClientCredentials or
// Client::Connect, with the ClientOptions field it begins with spelled as
// its flag: "tls_ca: cannot read ..." becomes "--tls-ca: cannot read ...".
std::string ConnectionFlagError(const absl::Status& status);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_CONNECTION_FLAGS_H_
