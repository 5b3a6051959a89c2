#include "services/auth/roles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals::auth {
namespace {

using ::annals::testing::StatusIs;
using ::testing::HasSubstr;

constexpr Role kRoles[] = {Role::kReader, Role::kWriter, Role::kAuditor,
                           Role::kAdmin};

TEST(RolesTest, EachRoleGrantsWhatTheTableSays) {
  // held \ needed: reader writer auditor admin
  const bool table[4][4] = {{true, false, false, false},
                            {true, true, false, false},
                            {true, false, true, false},
                            {true, true, true, true}};
  for (int held = 0; held < 4; ++held) {
    for (int needed = 0; needed < 4; ++needed) {
      EXPECT_EQ(Grants(kRoles[held], kRoles[needed]), table[held][needed])
          << RoleName(kRoles[held]) << " -> " << RoleName(kRoles[needed]);
    }
  }
}

TEST(RolesTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Role role : kRoles) EXPECT_EQ(*ParseRole(RoleName(role)), role);
  EXPECT_THAT(ParseRole("root"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reader, writer, auditor, admin")));
}

TEST(RolesTest, WritesNeedWriterExportNeedsAuditorAdminNeedsAdmin) {
  EXPECT_EQ(RoleNeeded("/annals.v1.EventLog/Append"), Role::kWriter);
  EXPECT_EQ(RoleNeeded("/annals.v1.EventLog/AppendSession"), Role::kWriter);
  EXPECT_EQ(RoleNeeded("/annals.v1.Audit/ReadStored"), Role::kAuditor);
  EXPECT_EQ(RoleNeeded("/annals.v1.Admin/RebuildProjections"), Role::kAdmin);
  EXPECT_EQ(RoleNeeded("/annals.v1.Admin/CreateBackup"), Role::kAdmin);
  EXPECT_EQ(RoleNeeded("/annals.v1.Audit/GetTreeHead"), Role::kReader);
  EXPECT_EQ(RoleNeeded("/annals.v1.ServerInfo/GetServerInfo"), Role::kReader);
  EXPECT_EQ(RoleNeeded("/annals.v1.EventLog/Nope"), std::nullopt);
}

}  // namespace
}  // namespace annals::auth
