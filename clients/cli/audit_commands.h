// The annals CLI commands of verifiable history:
//
//   annals export [--to FILE]                 the log, signed, to FILE/stdout
//   annals verify FILE --public-key KEY       offline: chain, root, signature
//   annals audit --state FILE [--public-key KEY]
//                                             consistency with a saved head
//   annals replay FILE (--to-position P | --to-date D) [--public-key KEY]
//                                             relationship states, offline
//   annals public-key                         the server's key (PEM)
//
// Exit codes as everywhere in the CLI: 0 success; 1 the server refused or a
// verification failed (one line on stderr naming the first bad position or
// the check that failed); 2 the command line is wrong.
#ifndef ANNALS_CLIENTS_CLI_AUDIT_COMMANDS_H_
#define ANNALS_CLIENTS_CLI_AUDIT_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "annals/v1/audit.pb.h"
#include "clients/cpp/client.h"
#include "clients/cli/relationship_commands.h"

namespace annals {

// Commands as annals_main.cc runs them. `flags.to` is export's --to,
// `flags.json` replay's --json.
int ExportCommand(Client& client, const std::vector<char*>& args,
                  const CommonFlags& flags);
int VerifyCommand(Client& client, const std::vector<char*>& args,
                  const CommonFlags& flags);
int AuditCommand(Client& client, const std::vector<char*>& args,
                 const CommonFlags& flags);
int ReplayCommand(Client& client, const std::vector<char*>& args,
                  const CommonFlags& flags);
int PublicKeyCommand(Client& client, const std::vector<char*>& args,
                     const CommonFlags& flags);

// --- Testable parts ---

// One audit round: fetches the server's signed tree head, verifies its
// signature with the server's key (which must be `public_key_pem` when that
// is not empty, and must have the key id of the head saved in `state_file`
// when there is one), checks the consistency proof from the saved head to
// the new one, then saves the new head in `state_file` (JSON of
// annals.v1.SignedTreeHead, replaced atomically). Writes one line on `out`.
// Without `public_key_pem` the key is trusted on first use: a first audit
// says so on `err`, loudly, with how to pin the key.
// FAILED_PRECONDITION / DATA_LOSS saying what failed; the state file is
// then left as it was.
absl::Status RunAudit(Client& client, const std::string& state_file,
                      const std::string& public_key_pem, std::ostream& out,
                      std::ostream& err);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_AUDIT_COMMANDS_H_
