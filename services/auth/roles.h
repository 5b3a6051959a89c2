// Roles, and the role each method of annalsd needs.
//
//   reader   reads, queries, subscriptions, tree heads and proofs
//   writer   reader + EventLog.Append and AppendSession
//   auditor  reader + Audit.ReadStored (the export of the stored log)
//   admin    everything, Admin included
//
// Every method of every annals service has a rule here (a test holds the
// table against the services the server registers); a method without one
// is refused to every role. gRPC's health and reflection services are not
// annals services and stay open.
#ifndef ANNALS_SERVICES_AUTH_ROLES_H_
#define ANNALS_SERVICES_AUTH_ROLES_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace annals::auth {

// Values are not persisted; the names are (tokens and certificates files).
enum class Role { kReader, kWriter, kAuditor, kAdmin };

// "reader", "writer", "auditor", "admin".
absl::string_view RoleName(Role role);

// The role named `name`; INVALID_ARGUMENT naming the four roles otherwise.
absl::StatusOr<Role> ParseRole(absl::string_view name);

// Whether a principal of role `held` may call a method that needs `needed`.
bool Grants(Role held, Role needed);

// The role the method `method` needs, by its full name
// ("/annals.v1.EventLog/Append"); nullopt for a method without a rule.
std::optional<Role> RoleNeeded(absl::string_view method);

// Every rule: (full method name, role needed), in the order of the .proto
// files.
const std::vector<std::pair<std::string, Role>>& MethodRoles();

}  // namespace annals::auth

#endif  // ANNALS_SERVICES_AUTH_ROLES_H_
