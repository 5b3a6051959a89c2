#include "services/auth/roles.h"

#include "absl/strings/str_cat.h"

namespace annals::auth {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role role : {Role::kReader, Role::kWriter, Role::kAuditor,
                    Role::kAdmin}) {
    if (name == RoleName(role)) return role;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", name,
                   "' (roles: reader, writer, auditor, admin)"));
}

bool Grants(Role held, Role needed) {
  return held == needed || held == Role::kAdmin || needed == Role::kReader;
}

const std::vector<std::pair<std::string, Role>>& MethodRoles() {
  static const auto* const kRules =
      new std::vector<std::pair<std::string, Role>>{
          {"/annals.v1.EventLog/Append", Role::kWriter},
          {"/annals.v1.EventLog/AppendSession", Role::kWriter},
          {"/annals.v1.EventLog/ReadStream", Role::kReader},
          {"/annals.v1.EventLog/ReadAll", Role::kReader},
          {"/annals.v1.EventLog/GetEvent", Role::kReader},
          {"/annals.v1.Relationships/GetRelationship", Role::kReader},
          {"/annals.v1.Relationships/ListRelationships", Role::kReader},
          {"/annals.v1.Relationships/QueryTimeline", Role::kReader},
          {"/annals.v1.Admin/RebuildProjections", Role::kAdmin},
          {"/annals.v1.Admin/CreateBackup", Role::kAdmin},
          {"/annals.v1.Subscriptions/Subscribe", Role::kReader},
          {"/annals.v1.Subscriptions/WatchRelationship", Role::kReader},
          {"/annals.v1.Audit/GetTreeHead", Role::kReader},
          {"/annals.v1.Audit/ProveInclusion", Role::kReader},
          {"/annals.v1.Audit/ProveConsistency", Role::kReader},
          {"/annals.v1.Audit/GetPublicKey", Role::kReader},
          {"/annals.v1.Audit/ReadStored", Role::kAuditor},
          {"/annals.v1.ServerInfo/GetServerInfo", Role::kReader},
      };
  return *kRules;
}

std::optional<Role> RoleNeeded(absl::string_view method) {
  for (const auto& [name, role] : MethodRoles()) {
    if (name == method) return role;
  }
  return std::nullopt;
}

}  // namespace annals::auth
