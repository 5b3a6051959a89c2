#include "services/auth/principals_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/token.h"
#include "tests/testing/status_matchers.h"

namespace annals::auth {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kDigest = TokenDigestHex("annals_secret");

TEST(PrincipalsFileTest, TokensFileParsesSkippingCommentsAndBlankLines) {
  auto tokens = ParseTokens(
      "# dashboards\n\n  ci-writer  writer\t" + kDigest + "  \nauditor-1 auditor " +
          std::string(64, 'A') + "\n",
      "tokens");
  ASSERT_THAT(tokens, IsOk());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].name, "ci-writer");
  EXPECT_EQ((*tokens)[0].role, Role::kWriter);
  EXPECT_EQ((*tokens)[0].digest, TokenDigest("annals_secret"));
  EXPECT_EQ((*tokens)[1].role, Role::kAuditor);
}

TEST(PrincipalsFileTest, TokensFileErrorsNameTheFileLineAndProblem) {
  EXPECT_THAT(ParseTokens("\na writer\n", "t.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.txt:2: expected NAME ROLE SHA256HEX")));
  EXPECT_THAT(ParseTokens("a root " + kDigest, "t.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.txt:1: token unknown role 'root'")));
  EXPECT_THAT(ParseTokens("a reader annals_secret", "t.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("SHA-256 in 64 hex digits")));
  EXPECT_THAT(ParseTokens("a/b reader " + kDigest, "t.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("token name 'a/b'")));
  EXPECT_THAT(ParseTokens("a reader " + kDigest + "\na admin " + kDigest,
                          "t.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.txt:2: token name 'a' is given twice")));
}

TEST(PrincipalsFileTest, CertificatesFileMapsSubjectsToRoles) {
  auto certificates =
      ParseCertificates("ingest.example.org writer\n# x\nalice admin\n", "c");
  ASSERT_THAT(certificates, IsOk());
  EXPECT_EQ(certificates->at("ingest.example.org"), Role::kWriter);
  EXPECT_EQ(certificates->at("alice"), Role::kAdmin);
  EXPECT_THAT(ParseCertificates("alice\n", "c"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c:1: expected SUBJECT ROLE")));
}

TEST(PrincipalsFileTest, UnreadableFileIsNamed) {
  EXPECT_THAT(ReadPrincipals("/nonexistent/tokens", ""),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("--auth-tokens /nonexistent/tokens")));
}

}  // namespace
}  // namespace annals::auth
