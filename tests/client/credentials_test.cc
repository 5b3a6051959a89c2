// The client's TLS and token options: files that cannot be used are refused
// by name before anything connects, the token reaches the server as
// "authorization: Bearer TOKEN" on unary, server-streaming and
// bidirectional calls alike, and TLS checks both ends.
#include "clients/cpp/credentials.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::ProcessDir;
using ::annals::testing::StatusIs;
using ::annals::testing::WriteProcessFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST(LoadClientCredentialsTest, WithoutTlsCaIsPlaintextAndKeepsTheToken) {
  ClientOptions options;
  options.token = "annals_secret";
  ANNALS_ASSERT_OK_AND_ASSIGN(ClientCredentials credentials,
                              LoadClientCredentials(options));
  EXPECT_NE(credentials.channel, nullptr);
  EXPECT_EQ(credentials.token, "annals_secret");
  EXPECT_THAT(credentials.tls_server_name, IsEmpty());
}

TEST(LoadClientCredentialsTest, AMissingCaFileIsNamedWithWhatItIsFor) {
  ClientOptions options;
  options.tls_ca = "/nonexistent/annals-ca.pem";
  EXPECT_THAT(
      LoadClientCredentials(options),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(StartsWith("tls_ca: cannot read /nonexistent/annals-ca.pem"),
                HasSubstr("the CA certificate that signed annalsd's"),
                HasSubstr("No such file or directory"))));
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/annals-ca.pem")));
}

TEST(LoadClientCredentialsTest, AnEmptyOrNonPemFileIsRefused) {
  ClientOptions options;
  options.tls_ca = WriteProcessFile("empty.pem", "");
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("tls_ca: "), HasSubstr("is empty"))));
  options.tls_ca = WriteProcessFile("text.pem", "not a certificate\n");
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no PEM block")));
}

TEST(LoadClientCredentialsTest, ACertificateWithoutItsKeyIsRefused) {
  ClientOptions options;
  options.tls_ca = WriteProcessFile("ca.pem", kPem);
  options.tls_cert = WriteProcessFile("client.pem", kPem);
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("tls_key: missing")));
  options.tls_cert.clear();
  options.tls_key = WriteProcessFile("client.key", kPem);
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("tls_cert: missing")));
}

TEST(LoadClientCredentialsTest, AnUnreadableKeyIsNamed) {
  ClientOptions options;
  options.tls_ca = WriteProcessFile("ca.pem", kPem);
  options.tls_cert = WriteProcessFile("client.pem", kPem);
  options.tls_key = "/nonexistent/client.key";
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("tls_key: cannot read "
                                        "/nonexistent/client.key"),
                             HasSubstr("private key"))));
}

TEST(LoadClientCredentialsTest, ClientCertificateAndServerNameNeedTls) {
  ClientOptions options;
  options.tls_cert = WriteProcessFile("client.pem", kPem);
  options.tls_key = WriteProcessFile("client.key", kPem);
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("tls_ca: missing")));
  options = ClientOptions();
  options.tls_server_name = "annalsd";
  EXPECT_THAT(LoadClientCredentials(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("tls_ca: missing")));
}

TEST(LoadClientCredentialsTest, TlsWithClientCertificateLoads) {
  ClientOptions options;
  options.tls_ca = WriteProcessFile("ca.pem", kPem);
  options.tls_cert = WriteProcessFile("client.pem", kPem);
  options.tls_key = WriteProcessFile("client.key", kPem);
  options.tls_server_name = "annalsd";
  ANNALS_ASSERT_OK_AND_ASSIGN(ClientCredentials credentials,
                              LoadClientCredentials(options));
  EXPECT_NE(credentials.channel, nullptr);
  EXPECT_EQ(credentials.tls_server_name, "annalsd");
}

TEST(LoadClientCredentialsTest, ATokenAHeaderCannotCarryIsRefusedUnprinted) {
  ClientOptions options;
  for (const char* token : {"annals_has space", "annals_new\nline"}) {
    options.token = token;
    EXPECT_THAT(
        LoadClientCredentials(options),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(StartsWith("token: "), Not(HasSubstr("annals_")))));
  }
}

// Services answering with what they saw of the "authorization" header.
class Recorder {
 public:
  void Record(const grpc::ServerContext& context) {
    std::vector<std::string> values;
    const auto [first, last] =
        context.client_metadata().equal_range("authorization");
    for (auto it = first; it != last; ++it) {
      values.emplace_back(it->second.data(), it->second.size());
    }
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(values));
  }

  std::vector<std::vector<std::string>> Calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> calls_ ABSL_GUARDED_BY(mu_);
};

class FakeHealth final : public grpc::health::v1::Health::Service {
 public:
  explicit FakeHealth(Recorder* recorder) : recorder_(recorder) {}
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse* response) override {
    recorder_->Record(*context);
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }

 private:
  Recorder* recorder_;
};

class FakeSubscriptions final : public v1::Subscriptions::Service {
 public:
  explicit FakeSubscriptions(Recorder* recorder) : recorder_(recorder) {}
  grpc::Status Subscribe(grpc::ServerContext* context,
                         const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::SubscribeResponse>*) override {
    recorder_->Record(*context);
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "fake");
  }

 private:
  Recorder* recorder_;
};

class FakeEventLog final : public v1::EventLog::Service {
 public:
  explicit FakeEventLog(Recorder* recorder) : recorder_(recorder) {}
  grpc::Status AppendSession(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::AppendSessionResponse,
                               v1::AppendSessionRequest>*) override {
    recorder_->Record(*context);
    return grpc::Status::OK;
  }

 private:
  Recorder* recorder_;
};

class TokenTest : public ::testing::Test {
 protected:
  // Starts the fake server, listening on loopback when `listen` (then
  // address_ is set), in-process only otherwise.
  void Start(bool listen) {
    grpc::ServerBuilder builder;
    int port = 0;
    if (listen) {
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                               &port);
    }
    builder.RegisterService(&health_);
    builder.RegisterService(&subscriptions_);
    builder.RegisterService(&event_log_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    if (listen) address_ = absl::StrCat("127.0.0.1:", port);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // A unary, a server-streaming and a bidirectional call on `client`.
  static void CallEachKind(Client& client) {
    EXPECT_THAT(client.Health(), IsOk());
    EXPECT_THAT(
        client.Subscribe(v1::SubscribeRequest(),
                         [](const v1::SubscribeResponse&) { return true; }),
        StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(client.OpenAppendSession()->Finish(), IsOk());
  }

  Recorder recorder_;
  FakeHealth health_{&recorder_};
  FakeSubscriptions subscriptions_{&recorder_};
  FakeEventLog event_log_{&recorder_};
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(TokenTest, ConnectSendsTheTokenAsBearerOnEveryKindOfCall) {
  Start(/*listen=*/true);
  ClientOptions options;
  options.server = address_;
  options.token = "annals_abc-DEF_123";
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                              Client::Connect(options));
  CallEachKind(*client);
  const std::vector<std::string> bearer = {"Bearer annals_abc-DEF_123"};
  EXPECT_THAT(recorder_.Calls(), ElementsAre(bearer, bearer, bearer));
}

TEST_F(TokenTest, WithoutATokenNoAuthorizationIsSent) {
  Start(/*listen=*/true);
  ClientOptions options;
  options.server = address_;
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                              Client::Connect(options));
  CallEachKind(*client);
  EXPECT_THAT(recorder_.Calls(), ElementsAre(IsEmpty(), IsEmpty(), IsEmpty()));
}

TEST_F(TokenTest, TheInterceptorFactoryAddsTheTokenToAnInProcessChannel) {
  Start(/*listen=*/false);
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewTokenInterceptorFactory("annals_in_process"));
  Client client(server_->experimental().InProcessChannelWithInterceptors(
                    grpc::ChannelArguments(), std::move(interceptors)),
                absl::Seconds(10));
  CallEachKind(client);
  const std::vector<std::string> bearer = {"Bearer annals_in_process"};
  EXPECT_THAT(recorder_.Calls(), ElementsAre(bearer, bearer, bearer));
}

// Over TLS with certificates from deploy/make-certs.sh, to a fake server
// that requires and verifies client certificates.
class TlsTest : public TokenTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(absl::StrCat(ProcessDir(), "/certs"));
    for (const std::string& args :
         {std::string(), std::string(" client alice")}) {
      ASSERT_EQ(
          std::system(absl::StrCat(MAKE_CERTS, " ", *dir_, args, " >/dev/null")
                          .c_str()),
          0);
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string Cert(const std::string& name) {
    return absl::StrCat(*dir_, "/", name);
  }

  void StartTls() {
    auto read = [](const std::string& path) {
      std::ifstream file(path);
      return std::string(std::istreambuf_iterator<char>(file), {});
    };
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = read(Cert("ca.pem"));
    ssl.pem_key_cert_pairs.push_back(
        {read(Cert("server.key")), read(Cert("server.pem"))});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &port);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
  }

  ClientOptions MutualTls() const {
    ClientOptions options;
    options.server = address_;
    options.deadline = absl::Seconds(5);
    options.tls_ca = Cert("ca.pem");
    options.tls_cert = Cert("alice.pem");
    options.tls_key = Cert("alice.key");
    return options;
  }

  static std::string* dir_;
};

std::string* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, MutualTlsWithTheTokenReachesTheServer) {
  StartTls();
  ClientOptions options = MutualTls();
  options.token = "annals_over_tls";
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                              Client::Connect(options));
  EXPECT_THAT(client->Health(), IsOk());
  EXPECT_THAT(recorder_.Calls(),
              ElementsAre(std::vector<std::string>{"Bearer annals_over_tls"}));
}

TEST_F(TlsTest, WithoutAClientCertificateTheServerRefuses) {
  StartTls();
  ClientOptions options = MutualTls();
  options.tls_cert.clear();
  options.tls_key.clear();
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                              Client::Connect(options));
  EXPECT_THAT(client->Health(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(recorder_.Calls(), IsEmpty());
}

TEST_F(TlsTest, TheServerNameIsCheckedAndCanBeOverridden) {
  StartTls();
  ClientOptions options = MutualTls();
  options.tls_server_name = "localhost";  // in the certificate
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> named,
                              Client::Connect(options));
  EXPECT_THAT(named->Health(), IsOk());
  options.tls_server_name = "elsewhere.example";  // not in it
  ANNALS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> misnamed,
                              Client::Connect(options));
  EXPECT_THAT(misnamed->Health(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace annals
