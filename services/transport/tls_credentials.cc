#include "services/transport/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "services/auth/flag_file.h"

namespace annals::services {

namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio Read(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
             &BIO_free);
}

// The first certificate of `pem`, or INVALID_ARGUMENT naming the file.
absl::StatusOr<Cert> FirstCertificate(const std::string& pem,
                                      const std::string& path,
                                      absl::string_view flag) {
  Bio bio = Read(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
            &X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", path, " holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  return cert;
}

std::string Subject(X509* cert) {
  char* line = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
  std::string subject = line == nullptr ? "" : line;
  OPENSSL_free(line);
  return subject;
}

absl::StatusOr<std::unique_ptr<TlsCredentials::Pem>> ReadAndCheck(
    const TlsFiles& files) {
  auto pem = std::make_unique<TlsCredentials::Pem>();
  absl::StatusOr<std::string> text = auth::ReadFlagFile(files.cert, "--tls-cert");
  if (!text.ok()) return text.status();
  pem->cert = *std::move(text);
  text = auth::ReadFlagFile(files.key, "--tls-key");
  if (!text.ok()) return text.status();
  pem->key = *std::move(text);
  absl::StatusOr<Cert> cert = FirstCertificate(pem->cert, files.cert, "--tls-cert");
  if (!cert.ok()) return cert.status();
  Bio key_bio = Read(pem->key);
  Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
          &EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", files.key,
        " holds no PEM private key (BEGIN PRIVATE KEY, unencrypted)"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key in --tls-key ", files.key,
                     " is not the key of the certificate in --tls-cert ",
                     files.cert));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the certificate in --tls-cert ", files.cert, " has expired"));
  }
  pem->subject = Subject(cert->get());
  if (!files.client_ca.empty()) {
    text = auth::ReadFlagFile(files.client_ca, "--tls-client-ca");
    if (!text.ok()) return text.status();
    pem->client_ca = *std::move(text);
    absl::StatusOr<Cert> ca =
        FirstCertificate(pem->client_ca, files.client_ca, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
  }
  return pem;
}

// A grpc::ServerCredentials over a grpc_server_credentials of gRPC's C API
// (gRPC 1.51's C++ API has no public wrapper for one).
class CoreCredentials final : public grpc::ServerCredentials {
 public:
  explicit CoreCredentials(grpc_server_credentials* credentials)
      : credentials_(credentials) {}
  ~CoreCredentials() override { grpc_server_credentials_release(credentials_); }

  // annals authenticates calls in its handlers (services/auth).
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& address,
                      grpc_server* server) override {
    return grpc_server_add_http2_port(server, address.c_str(), credentials_);
  }

  grpc_server_credentials* const credentials_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Load(
    const TlsFiles& files) {
  absl::StatusOr<std::unique_ptr<Pem>> pem = ReadAndCheck(files);
  if (!pem.ok()) return pem.status();
  std::unique_ptr<TlsCredentials> tls(new TlsCredentials(files));
  tls->current_ = *std::move(pem);
  grpc_ssl_server_credentials_options* options =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(
          files.client_ca.empty()
              ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
              : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY,
          &TlsCredentials::Fetch, tls.get());
  tls->credentials_ = std::make_shared<CoreCredentials>(
      grpc_ssl_server_credentials_create_with_options(options));
  return tls;
}

TlsCredentials::TlsCredentials(const TlsFiles& files) : files_(files) {}

TlsCredentials::~TlsCredentials() = default;

absl::Status TlsCredentials::Reload() {
  absl::StatusOr<std::unique_ptr<Pem>> pem = ReadAndCheck(files_);
  if (!pem.ok()) return pem.status();
  absl::MutexLock lock(&mu_);
  current_ = *std::move(pem);
  changed_ = true;
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> TlsCredentials::ServerCredentials() {
  return credentials_;
}

std::shared_ptr<const TlsCredentials::Pem> TlsCredentials::pem() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::string TlsCredentials::subject() const {
  absl::MutexLock lock(&mu_);
  return current_->subject;
}

grpc_ssl_certificate_config_reload_status TlsCredentials::Fetch(
    void* self, grpc_ssl_server_certificate_config** config) {
  auto* tls = static_cast<TlsCredentials*>(self);
  absl::MutexLock lock(&tls->mu_);
  if (!tls->changed_) return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  const Pem& pem = *tls->current_;
  grpc_ssl_pem_key_cert_pair pair = {pem.key.c_str(), pem.cert.c_str()};
  // gRPC 1.51 asserts that a fetched config has client roots even when
  // client certificates are not requested (ssl_security_connector.cc);
  // then they are never used, and the server's own chain stands in.
  *config = grpc_ssl_server_certificate_config_create(
      pem.client_ca.empty() ? pem.cert.c_str() : pem.client_ca.c_str(), &pair,
      1);
  tls->changed_ = false;
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace annals::services
