// How a channel to annalsd is secured: TLS (optionally with a client
// certificate) or plaintext, and the bearer token sent on every call. The
// one place where the client library, the annals CLI and annals-bench turn
// ClientOptions into channel credentials.
#ifndef ANNALS_CLIENTS_CPP_CREDENTIALS_H_
#define ANNALS_CLIENTS_CPP_CREDENTIALS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/client.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/client_interceptor.h"

namespace annals {

// The loaded form of ClientOptions' TLS and token fields. Cheap to copy;
// holds the token, so never print it.
struct ClientCredentials {
  // TLS credentials (the CA's certificates, and the client certificate and
  // key for mTLS), or insecure ones when ClientOptions::tls_ca is empty.
  std::shared_ptr<grpc::ChannelCredentials> channel;
  // ClientOptions::tls_server_name: the name checked in annalsd's
  // certificate instead of the host of the address; empty: that host.
  std::string tls_server_name;
  // The bearer token; empty: calls carry none.
  std::string token;
  // ClientOptions::min_position; 0: calls carry none.
  uint64_t min_position = 0;
};

// Reads the files `options` names (tls_ca, tls_cert, tls_key) now and
// checks the fields go together. INVALID_ARGUMENT when a file cannot be read,
// is empty or holds no PEM block, when only one of tls_cert and tls_key is
// given, when tls_cert or tls_server_name is given without tls_ca, or when
// the token holds a character a gRPC header cannot carry (it must be
// printable ASCII without spaces). Every message begins with the name of
// the field at fault and a colon ("tls_ca: cannot read /etc/ca.pem (...)"),
// names the file and what it is for, and never holds the token.
absl::StatusOr<ClientCredentials> LoadClientCredentials(
    const ClientOptions& options);

// A channel to `server` ("HOST:PORT") with `credentials` and the channel
// arguments `args` (to which only the TLS server name is added): every call
// on it carries "authorization: Bearer TOKEN" when there is a token,
// whatever stub or context makes the call. Connects lazily.
std::shared_ptr<grpc::Channel> CreateChannel(
    const std::string& server, const ClientCredentials& credentials,
    grpc::ChannelArguments args);

// An interceptor factory adding "authorization: Bearer `token`" to the
// initial metadata of every call of a channel, for channels made elsewhere
// (e.g. in-process ones in tests: grpc::Server::experimental()
// .InProcessChannelWithInterceptors). Plain metadata rather than
// CallCredentials, which gRPC refuses on insecure channels.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
NewTokenInterceptorFactory(std::string token);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CPP_CREDENTIALS_H_
