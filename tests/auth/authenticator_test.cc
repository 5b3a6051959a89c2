#include "services/auth/authenticator.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/auth/token.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace annals::auth {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.tokens_file = dir_.Sub("tokens");
    options_.certs_file = dir_.Sub("certs");
    Write(options_.tokens_file,
          absl::StrCat("reader-1 reader ", TokenDigestHex("annals_r"), "\n",
                       "writer-1 writer ", TokenDigestHex("annals_w"), "\n"));
    Write(options_.certs_file, "ingest writer\n");
    options_.max_failures_per_minute = 3;
    auto loaded = Authenticator::Load(options_);
    ASSERT_THAT(loaded, IsOk());
    authenticator_ = *std::move(loaded);
  }

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  absl::StatusOr<Principal> WithToken(absl::string_view header,
                                      absl::string_view peer = "ipv4:10.0.0.1") {
    Presented presented;
    presented.authorization = header;
    presented.peer_address = peer;
    return authenticator_->Authenticate(presented);
  }

  annals::testing::ScratchDir dir_;
  AuthOptions options_;
  std::unique_ptr<Authenticator> authenticator_;
};

TEST_F(AuthenticatorTest, KnownTokenIsItsNamedPrincipalWithItsRole) {
  auto principal = WithToken("Bearer annals_w");
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->name, "token:writer-1");
  EXPECT_EQ(principal->role, Role::kWriter);
  EXPECT_THAT(WithToken("bearer   annals_r"), IsOk()) << "scheme is any case";
}

TEST_F(AuthenticatorTest, UnknownOrMalformedTokensAreUnauthenticated) {
  EXPECT_THAT(WithToken("Bearer annals_nope"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("not known to this server")));
  EXPECT_THAT(WithToken("Basic dXNlcjpwYXNz"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("'Bearer TOKEN'")));
  EXPECT_THAT(authenticator_->Authenticate(Presented{}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("requires authentication")));
}

TEST_F(AuthenticatorTest, ErrorsNeverRepeatTheToken) {
  auto refused = WithToken("Bearer annals_guess_1234");
  EXPECT_THAT(refused.status().ToString(), Not(HasSubstr("guess_1234")));
}

TEST_F(AuthenticatorTest, CertificateSubjectTakesTheRoleOfTheFile) {
  Presented presented;
  presented.certificate_subject = "ingest";
  auto principal = authenticator_->Authenticate(presented);
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->name, "cert:ingest");
  EXPECT_EQ(principal->role, Role::kWriter);
  presented.certificate_subject = "stranger";
  EXPECT_THAT(authenticator_->Authenticate(presented),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("cert:stranger has no role")));
}

TEST_F(AuthenticatorTest, AddressThatFailsTooOftenIsRefusedEvenWithAGoodToken) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(WithToken("Bearer annals_bad"),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  auto refused = WithToken("Bearer annals_w");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("too many failed authentication")));
  EXPECT_TRUE(rpc::RetryDelay(refused.status()).has_value());
  EXPECT_THAT(WithToken("Bearer annals_w", "ipv4:10.0.0.2"), IsOk())
      << "other addresses are not refused";
}

TEST_F(AuthenticatorTest, ReloadRevokesRemovedTokensAndKeepsOldOnError) {
  Write(options_.tokens_file,
        absl::StrCat("reader-1 reader ", TokenDigestHex("annals_r"), "\n"));
  ASSERT_THAT(authenticator_->Reload(), IsOk());
  EXPECT_THAT(WithToken("Bearer annals_w"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(WithToken("Bearer annals_r"), IsOk());
  Write(options_.tokens_file, "broken line\n");
  EXPECT_THAT(authenticator_->Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(":1:")));
  EXPECT_THAT(WithToken("Bearer annals_r"), IsOk()) << "kept what it had";
}

TEST(AuthorizeTest, WrongRoleIsPermissionDeniedNamingTheRoleNeeded) {
  EXPECT_THAT(Authorize({"token:r", Role::kReader}, "/annals.v1.EventLog/Append"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("needs the role writer; token:r has the "
                                 "role reader")));
  EXPECT_THAT(Authorize({"token:w", Role::kWriter}, "/annals.v1.EventLog/Append"),
              IsOk());
  EXPECT_THAT(Authorize({"token:a", Role::kAdmin}, "/annals.v1.Nope/Nope"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("no access rule")));
}

}  // namespace
}  // namespace annals::auth
