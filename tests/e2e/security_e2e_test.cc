// The real annalsd secured as docs/security.md says, driven by the real
// annals CLI with certificates from deploy/make-certs.sh and tokens from
// `annals admin token create`: TLS, bearer tokens and roles, client
// certificates, the principal recorded, and rotation on SIGHUP without a
// restart.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::Eventually;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kMakeCerts = MAKE_CERTS_PATH;
const std::string kSampleFlags = SAMPLE_FLAGS_PATH;
const std::string kExamples = EXAMPLES_DIR;
// The id of the second event of clients/examples/events.jsonl.
constexpr char kSecondId[] = "unga-2018-jpn-eu-table-dprk-human-rights";

class SecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("security_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    certs_ = (dir_ / "certs").string();
    const RunResult made = RunProcess({kMakeCerts, certs_}, dir_.string());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ingest_token_ = NewToken("ingest", "writer");
    dashboard_token_ = NewToken("dashboard", "reader");
  }

  void TearDown() override {
    for (pid_t pid : {watch_pid_, server_pid_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        testing::WaitExit(pid);
      }
    }
    std::filesystem::remove_all(dir_);
  }

  // A new token of `role` named `name`, its line added to dir_/tokens.
  std::string NewToken(const std::string& name, const std::string& role) {
    const RunResult made = RunProcess(
        {kAnnals, "admin", "token", "create", name, role}, dir_.string());
    EXPECT_EQ(made.exit_code, 0) << made.err;
    const std::vector<std::string> lines =
        absl::StrSplit(made.out, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 2u) << made.out;
    if (lines.size() != 2) return "";
    std::ofstream(dir_ / "tokens", std::ios::app) << lines[1] << "\n";
    return lines[0];
  }

  void MakeClientCertificate(const std::string& certs, const std::string& name,
                             std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {kMakeCerts, certs, "client", name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const RunResult made = RunProcess(argv, dir_.string());
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }

  // Starts annalsd with TLS (and `flags`) over dir_/data.
  void StartServer(std::vector<std::string> flags = {}) {
    std::vector<std::string> all = {"--durability", "buffered", "--tls-cert",
                                    certs_ + "/server.pem", "--tls-key",
                                    certs_ + "/server.key"};
    all.insert(all.end(), flags.begin(), flags.end());
    const testing::StartedServer started =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), all);
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = absl::StrCat("localhost:", started.port);
  }

  // `annals --server S ARGS` with no TLS or token unless ARGS give them.
  RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string());
  }

  // `annals` over TLS with the test CA, and `token` when not empty.
  RunResult AnnalsAs(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> flags = {"--tls-ca", certs_ + "/ca.pem"};
    if (!token.empty()) flags.insert(flags.end(), {"--token", token});
    args.insert(args.begin(), flags.begin(), flags.end());
    return Annals(args);
  }

  std::string Example() const {
    return kExamples + "/secret_talks_2001_2002.json";
  }

  std::filesystem::path dir_;
  std::string certs_;
  std::string ingest_token_;
  std::string dashboard_token_;
  pid_t server_pid_ = -1;
  pid_t watch_pid_ = -1;
  std::string server_;
};

TEST_F(SecurityE2eTest, PlaintextClientCannotTalkToATlsServer) {
  StartServer();
  const RunResult plaintext = Annals({"health"});
  EXPECT_EQ(plaintext.exit_code, 1);
  EXPECT_THAT(plaintext.err, HasSubstr("UNAVAILABLE"));
  const RunResult tls = AnnalsAs("", {"health"});
  EXPECT_EQ(tls.exit_code, 0) << tls.err;
}

TEST_F(SecurityE2eTest, TokensDecideWhoMayWriteAndTheLogRecordsTheirName) {
  StartServer({"--auth-tokens", (dir_ / "tokens").string()});
  const RunResult anonymous = AnnalsAs("", {"append", Example()});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("UNAUTHENTICATED"));
  const RunResult reader = AnnalsAs(dashboard_token_, {"append", Example()});
  EXPECT_EQ(reader.exit_code, 1);
  EXPECT_THAT(reader.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(reader.err, HasSubstr("needs the role writer"));
  EXPECT_THAT(reader.err, Not(HasSubstr(dashboard_token_)));

  const RunResult writer = AnnalsAs(ingest_token_, {"append", Example()});
  ASSERT_EQ(writer.exit_code, 0) << writer.err;
  const RunResult read =
      AnnalsAs(dashboard_token_, {"--json", "read", "--all"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("\"principal\":\"token:ingest\""));
  EXPECT_THAT(testing::ReadFileOrEmpty((dir_ / "annalsd.log").string()),
              Not(HasSubstr(ingest_token_)))
      << "annalsd never logs a token";
}

TEST_F(SecurityE2eTest, ClientCertificateIsThePrincipalAndBadOnesAreRefused) {
  MakeClientCertificate(certs_, "ingest-bot");
  MakeClientCertificate(certs_, "old-bot", {"--expired"});
  const std::string foreign = (dir_ / "foreign").string();
  ASSERT_EQ(RunProcess({kMakeCerts, foreign}, dir_.string()).exit_code, 0);
  MakeClientCertificate(foreign, "ingest-bot");
  std::ofstream(dir_ / "certs.roles") << "ingest-bot writer\nold-bot writer\n";
  StartServer({"--tls-client-ca", certs_ + "/ca.pem", "--auth-certs",
               (dir_ / "certs.roles").string(), "--auth-tokens",
               (dir_ / "tokens").string()});
  auto with_certificate = [&](const std::string& certs,
                              const std::string& name) {
    return AnnalsAs("", {"--tls-cert", certs + "/" + name + ".pem",
                         "--tls-key", certs + "/" + name + ".key", "append",
                         Example()});
  };
  const RunResult mtls = with_certificate(certs_, "ingest-bot");
  ASSERT_EQ(mtls.exit_code, 0) << mtls.err;
  const RunResult read =
      AnnalsAs(dashboard_token_, {"--json", "read", "--all"});
  EXPECT_THAT(read.out, HasSubstr("\"principal\":\"cert:ingest-bot\""));

  const RunResult expired = with_certificate(certs_, "old-bot");
  EXPECT_EQ(expired.exit_code, 1);
  EXPECT_THAT(expired.err, HasSubstr("UNAVAILABLE"));
  const RunResult other_ca = with_certificate(foreign, "ingest-bot");
  EXPECT_EQ(other_ca.exit_code, 1);
  EXPECT_THAT(other_ca.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(SecurityE2eTest, SighupRotatesTheCertificateAndRevokesTokensInPlace) {
  StartServer({"--auth-tokens", (dir_ / "tokens").string()});
  // A subscription open across the rotation: its connection must survive.
  watch_pid_ = testing::Spawn(
      {kAnnals, "--server", server_, "--tls-ca", certs_ + "/ca.pem", "--token",
       dashboard_token_, "watch", "--from", "start"},
      "", (dir_ / "watch.out").string(), (dir_ / "watch.err").string());
  ASSERT_GT(watch_pid_, 0);
  ASSERT_EQ(AnnalsAs(ingest_token_, {"append", Example()}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] {
    return testing::ReadFileOrEmpty((dir_ / "watch.out").string())
               .find("jpn-prk-2001-2002-secret-talks") != std::string::npos;
  }));

  // A new CA and server certificate in the same files; the token file
  // without the ingest token.
  const std::string old_ca = (dir_ / "old-ca.pem").string();
  std::filesystem::copy_file(certs_ + "/ca.pem", old_ca);
  std::filesystem::remove(certs_ + "/ca.pem");
  std::filesystem::remove(certs_ + "/ca.key");
  ASSERT_EQ(RunProcess({kMakeCerts, certs_}, dir_.string()).exit_code, 0);
  const std::string other_token = NewToken("ingest-2", "writer");
  {
    std::ifstream in(dir_ / "tokens");
    std::string line, kept;
    while (std::getline(in, line)) {
      if (line.rfind("ingest ", 0) != 0) kept += line + "\n";
    }
    std::ofstream(dir_ / "tokens", std::ios::trunc) << kept;
  }
  ASSERT_EQ(kill(server_pid_, SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] {
    return testing::ReadFileOrEmpty((dir_ / "annalsd.log").string())
               .find("event=principals_reloaded") != std::string::npos;
  }));

  const RunResult old_trust = Annals({"--tls-ca", old_ca, "--token",
                                      dashboard_token_, "health"});
  EXPECT_EQ(old_trust.exit_code, 1) << "new connections get the new certificate";
  const RunResult revoked = AnnalsAs(ingest_token_, {"append", Example()});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_THAT(revoked.err, HasSubstr("UNAUTHENTICATED"));
  const std::string second = (dir_ / "second.json").string();
  {
    std::ifstream examples(kExamples + "/events.jsonl");
    std::string line;
    std::getline(examples, line);
    std::getline(examples, line);  // the second: not appended before
    std::ofstream(second) << line << "\n";
  }
  const RunResult appended = AnnalsAs(other_token, {"append", second});
  EXPECT_EQ(appended.exit_code, 0) << appended.err;

  // The watch's connection, made with the old certificate, still delivers
  // (over a new one it could not have trusted the new certificate).
  EXPECT_TRUE(Eventually([&] {
    return testing::ReadFileOrEmpty((dir_ / "watch.out").string())
               .find(kSecondId) != std::string::npos;
  })) << testing::ReadFileOrEmpty((dir_ / "watch.err").string());
  EXPECT_THAT(testing::ReadFileOrEmpty((dir_ / "annalsd.log").string()),
              HasSubstr("INFO event=tls_reloaded"));
}

TEST_F(SecurityE2eTest, SampleFlagFileServesTlsWithTokens) {
  // The sample's own paths are the operator's; the test's come after it.
  const testing::StartedServer started = testing::StartAnnalsd(
      kAnnalsd, dir_.string(),
      {"--flagfile", kSampleFlags, "--listen", "127.0.0.1:0", "--data-dir",
       (dir_ / "data").string(), "--tls-cert", certs_ + "/server.pem",
       "--tls-key", certs_ + "/server.key", "--auth-tokens",
       (dir_ / "tokens").string()},
      "127.0.0.1:0");
  server_pid_ = started.pid;
  ASSERT_EQ(started.error, "");
  server_ = absl::StrCat("localhost:", started.port);
  EXPECT_EQ(Annals({"health"}).exit_code, 1) << "plaintext refused";
  EXPECT_THAT(AnnalsAs("", {"read", "--all"}).err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(AnnalsAs(dashboard_token_, {"read", "--all"}).exit_code, 0);
}

}  // namespace
}  // namespace annals
