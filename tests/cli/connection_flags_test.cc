// The TLS and token flags annals and annals-bench share: where the token
// comes from, and errors that name the flag rather than the option.
#include "clients/cli/connection_flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "clients/cpp/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, token_file);

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::annals::testing::WriteProcessFile;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ConnectionFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* env : {"ANNALS_TLS_CA", "ANNALS_TLS_CERT",
                            "ANNALS_TLS_KEY", "ANNALS_TOKEN"}) {
      unsetenv(env);
    }
  }
  void TearDown() override { unsetenv("ANNALS_TOKEN"); }

  absl::FlagSaver saver_;
};

TEST_F(ConnectionFlagsTest, TheTokenFileGivesItsFirstLineTrimmed) {
  absl::SetFlag(&FLAGS_token_file,
                WriteProcessFile("token", "  annals_from_file \r\nsecond line\n"));
  ClientOptions options;
  ASSERT_THAT(ApplyConnectionFlags(&options), IsOk());
  EXPECT_EQ(options.token, "annals_from_file");
}

TEST_F(ConnectionFlagsTest, TheEnvironmentIsTheDefaultAndFlagsWin) {
  setenv("ANNALS_TOKEN", "annals_from_env", 1);
  ClientOptions options;
  ASSERT_THAT(ApplyConnectionFlags(&options), IsOk());
  EXPECT_EQ(options.token, "annals_from_env");

  absl::SetFlag(&FLAGS_token, "annals_from_flag");
  ASSERT_THAT(ApplyConnectionFlags(&options), IsOk());
  EXPECT_EQ(options.token, "annals_from_flag");
}

TEST_F(ConnectionFlagsTest, TokenAndTokenFileTogetherAreRefused) {
  absl::SetFlag(&FLAGS_token, "annals_x");
  absl::SetFlag(&FLAGS_token_file, WriteProcessFile("token", "annals_y\n"));
  ClientOptions options;
  EXPECT_THAT(ApplyConnectionFlags(&options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--token and --token-file"),
                             Not(HasSubstr("annals_x")))));
}

TEST_F(ConnectionFlagsTest, AnUnreadableOrEmptyTokenFileIsNamed) {
  ClientOptions options;
  absl::SetFlag(&FLAGS_token_file, "/nonexistent/token");
  EXPECT_THAT(
      ApplyConnectionFlags(&options),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("--token-file: cannot read /nonexistent/token")));
  absl::SetFlag(&FLAGS_token_file, WriteProcessFile("empty-token", "\n"));
  EXPECT_THAT(
      ApplyConnectionFlags(&options),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith("--token-file: "), HasSubstr("empty"))));
}

TEST_F(ConnectionFlagsTest, CredentialErrorsNameTheFlag) {
  absl::SetFlag(&FLAGS_tls_ca, "/nonexistent/ca.pem");
  ClientOptions options;
  ASSERT_THAT(ApplyConnectionFlags(&options), IsOk());
  const absl::StatusOr<ClientCredentials> loaded =
      LoadClientCredentials(options);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(ConnectionFlagError(loaded.status()),
              StartsWith("--tls-ca: cannot read /nonexistent/ca.pem"));

  absl::SetFlag(&FLAGS_tls_ca, "");
  absl::SetFlag(&FLAGS_tls_cert, "/some/cert.pem");
  ASSERT_THAT(ApplyConnectionFlags(&options), IsOk());
  EXPECT_THAT(ConnectionFlagError(LoadClientCredentials(options).status()),
              StartsWith("--tls-key: missing"));
}

}  // namespace
}  // namespace annals
