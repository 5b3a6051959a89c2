#include "clients/cpp/credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/interceptor.h"

namespace annals {
namespace {

// The contents of PEM file `path`, named by ClientOptions field `field` and
// holding `what`. INVALID_ARGUMENT saying which when it cannot be read, is
// empty or holds no PEM block.
absl::StatusOr<std::string> ReadPemFile(absl::string_view field,
                                        const std::string& path,
                                        absl::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot read ", path, " (", what,
                     "): ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot read ", path, " (", what,
                     "): ", std::strerror(errno)));
  }
  const std::string pem = contents.str();
  if (pem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", path, " is empty; expected ", what));
  }
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", path, " holds no PEM block; expected ", what));
  }
  return pem;
}

// A token goes into an HTTP/2 header value after "Bearer ": visible ASCII.
bool IsHeaderSafe(absl::string_view token) {
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Adds the authorization header to a call's initial metadata.
class HeaderInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit HeaderInterceptor(
      std::shared_ptr<const std::pair<std::string, std::string>> header)
      : header_(std::move(header)) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(header_->first,
                                                 header_->second);
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<const std::pair<std::string, std::string>> header_;
};

// Adds one header to every call of a channel.
class HeaderInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  HeaderInterceptorFactory(std::string key, std::string value)
      : header_(std::make_shared<const std::pair<std::string, std::string>>(
            std::move(key), std::move(value))) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    return new HeaderInterceptor(header_);
  }

 private:
  // Constant after construction; shared with the calls' interceptors.
  const std::shared_ptr<const std::pair<std::string, std::string>> header_;
};

}  // namespace

absl::StatusOr<ClientCredentials> LoadClientCredentials(
    const ClientOptions& options) {
  ClientCredentials credentials;
  if (!IsHeaderSafe(options.token)) {
    return absl::InvalidArgumentError(
        "token: holds a character a gRPC header cannot carry (only printable "
        "ASCII without spaces)");
  }
  credentials.token = options.token;
  credentials.min_position = options.min_position;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return options.tls_key.empty()
               ? absl::InvalidArgumentError(
                     "tls_key: missing: the client certificate needs its "
                     "private key")
               : absl::InvalidArgumentError(
                     "tls_cert: missing: the private key needs its client "
                     "certificate");
  }
  if (options.tls_ca.empty()) {
    if (!options.tls_cert.empty()) {
      return absl::InvalidArgumentError(
          "tls_ca: missing: a client certificate is sent only over TLS, which "
          "needs the CA certificate that signed annalsd's");
    }
    if (!options.tls_server_name.empty()) {
      return absl::InvalidArgumentError(
          "tls_ca: missing: a TLS server name applies only over TLS, which "
          "needs the CA certificate that signed annalsd's");
    }
    credentials.channel = grpc::InsecureChannelCredentials();
    return credentials;
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadPemFile(
      "tls_ca", options.tls_ca, "the CA certificate that signed annalsd's");
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *std::move(ca);
  if (!options.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPemFile(
        "tls_cert", options.tls_cert, "this client's certificate, for mTLS");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile("tls_key", options.tls_key,
                    "the private key of this client's certificate, for mTLS");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  credentials.channel = grpc::SslCredentials(ssl);
  credentials.tls_server_name = options.tls_server_name;
  return credentials;
}

std::shared_ptr<grpc::Channel> CreateChannel(
    const std::string& server, const ClientCredentials& credentials,
    grpc::ChannelArguments args) {
  if (!credentials.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(credentials.tls_server_name);
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  if (!credentials.token.empty()) {
    interceptors.push_back(NewTokenInterceptorFactory(credentials.token));
  }
  if (credentials.min_position > 0) {
    interceptors.push_back(std::make_unique<HeaderInterceptorFactory>(
        "annals-min-position", absl::StrCat(credentials.min_position)));
  }
  if (interceptors.empty()) {
    return grpc::CreateCustomChannel(server, credentials.channel, args);
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      server, credentials.channel, args, std::move(interceptors));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
NewTokenInterceptorFactory(std::string token) {
  return std::make_unique<HeaderInterceptorFactory>(
      "authorization", absl::StrCat("Bearer ", token));
}

}  // namespace annals
