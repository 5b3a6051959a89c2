// `annals admin token create NAME ROLE`: what it prints, and the command
// lines it refuses.
#include "clients/cli/token_command.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/auth/token.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

Outcome RunTokenCommand(std::vector<std::string> args, bool json = false) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  std::ostringstream out;
  std::ostringstream err;
  const int exit_code = AdminTokenCommand(argv, json, out, err);
  return {exit_code, out.str(), err.str()};
}

TEST(AdminTokenCommandTest, PrintsTheTokenThenItsTokensFileLine) {
  const Outcome run =
      RunTokenCommand({"create", "ci-bot@example.org", "writer"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines =
      absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << run.out;
  const std::string& token = lines[0];
  EXPECT_THAT(token, StartsWith("annals_"));
  EXPECT_EQ(lines[1],
            "ci-bot@example.org writer " + auth::TokenDigestHex(token));
  EXPECT_THAT(run.err, HasSubstr("shown only this once"));
  EXPECT_THAT(run.err, Not(HasSubstr(token)));
}

TEST(AdminTokenCommandTest, EveryRunMakesANewToken) {
  const Outcome first = RunTokenCommand({"create", "alice", "reader"});
  const Outcome second = RunTokenCommand({"create", "alice", "reader"});
  ASSERT_EQ(first.exit_code, 0);
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_NE(first.out, second.out);
}

TEST(AdminTokenCommandTest, JsonHasNameRoleTokenAndTokensFileLine) {
  const Outcome run = RunTokenCommand({"create", "auditor-1", "auditor"}, true);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  google::protobuf::Struct object;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(run.out, &object).ok())
      << run.out;
  const auto& fields = object.fields();
  ASSERT_EQ(fields.size(), 4u) << run.out;
  const std::string token = fields.at("token").string_value();
  EXPECT_THAT(token, StartsWith("annals_"));
  EXPECT_EQ(fields.at("name").string_value(), "auditor-1");
  EXPECT_EQ(fields.at("role").string_value(), "auditor");
  EXPECT_EQ(fields.at("tokensFileLine").string_value(),
            "auditor-1 auditor " + auth::TokenDigestHex(token));
}

TEST(AdminTokenCommandTest, ABadRoleOrNameIsAUsageError) {
  Outcome run = RunTokenCommand({"create", "alice", "root"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err,
              HasSubstr("unknown role 'root' (roles: reader, writer, "
                        "auditor, admin)"));
  EXPECT_THAT(run.out, IsEmpty());

  run = RunTokenCommand({"create", "alice smith", "reader"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("must be 1..128 letters, digits or ._@:-"));
  EXPECT_THAT(run.out, IsEmpty());

  run = RunTokenCommand({"create", std::string(129, 'a'), "reader"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("must be 1..128"));
}

TEST(AdminTokenCommandTest, AnythingButCreateNameRoleIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"create"},
           {"create", "alice"},
           {"delete", "alice", "reader"},
           {"create", "alice", "reader", "extra"}}) {
    const Outcome run = RunTokenCommand(args);
    EXPECT_EQ(run.exit_code, 2) << args.size();
    EXPECT_THAT(run.err, HasSubstr("create NAME ROLE"));
    EXPECT_THAT(run.out, IsEmpty());
  }
}

}  // namespace
}  // namespace annals
