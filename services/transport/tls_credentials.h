// annalsd's TLS: its certificate and key, and the CA its clients'
// certificates must be signed by (mTLS), read from PEM files and read
// again on Reload (SIGHUP) without dropping a connection.
//
// gRPC 1.51's C++ API reloads certificates only through
// FileWatcherCertificateProvider, which polls the files on a timer and
// cannot be told when to read them, nor say that what it read is broken.
// This uses gRPC's C API for the same job (an SSL server certificate
// config fetcher, asked at every new handshake): files are read when the
// operator says so, checked (the key must match the certificate) before
// they are used, and a broken rotation leaves the server serving with what
// it had. New connections get the new certificate; open ones keep theirs.
#ifndef ANNALS_SERVICES_TRANSPORT_TLS_CREDENTIALS_H_
#define ANNALS_SERVICES_TRANSPORT_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpc/grpc_security.h"
#include "grpcpp/security/server_credentials.h"

namespace annals::services {

struct TlsFiles {
  // PEM certificate chain (leaf first) and private key of the server.
  std::string cert;
  std::string key;
  // PEM CA certificates that sign client certificates. Empty: clients are
  // not asked for one. Set: a client that presents a certificate must
  // present a valid one (unexpired, signed by one of these) or the
  // handshake fails; one that presents none may still authenticate with a
  // token.
  std::string client_ca;
};

class TlsCredentials {
 public:
  // Reads and checks the files: NOT_FOUND / PERMISSION_DENIED naming a file
  // that cannot be read, INVALID_ARGUMENT naming one that is not PEM of
  // what it should hold, or a key that does not match the certificate.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Load(
      const TlsFiles& files);
  ~TlsCredentials();

  // Reads and checks the files again; from the next handshake on, the
  // server presents (and verifies against) what they now hold. On an error
  // (as Load) keeps what it had. Thread-safe.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // The credentials to listen with. Must not outlive this object.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials();

  // The subject of the server certificate in use (for logs).
  std::string subject() const ABSL_LOCKS_EXCLUDED(mu_);

  // What the files held when last read and checked: the PEM text of the
  // certificate chain, the key and the client CAs (empty when clients are
  // not asked for a certificate), and the certificate's subject. A new
  // object after each successful Reload. Thread-safe.
  struct Pem {
    std::string cert;
    std::string key;
    std::string client_ca;
    std::string subject;
  };
  std::shared_ptr<const Pem> pem() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit TlsCredentials(const TlsFiles& files);

  // The fetcher gRPC calls at each handshake: the config of current_ when
  // it changed since the last call.
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const TlsFiles files_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Pem> current_ ABSL_GUARDED_BY(mu_);
  // Set by Load and Reload, taken by the next Fetch.
  bool changed_ ABSL_GUARDED_BY(mu_) = true;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_TRANSPORT_TLS_CREDENTIALS_H_
