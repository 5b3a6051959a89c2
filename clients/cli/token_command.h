// `annals admin token create NAME ROLE`: makes a bearer token for annalsd's
// --auth-tokens file. Needs no server: the token is random, and annalsd
// learns of it only from the line added to its file.
#ifndef ANNALS_CLIENTS_CLI_TOKEN_COMMAND_H_
#define ANNALS_CLIENTS_CLI_TOKEN_COMMAND_H_

#include <ostream>
#include <vector>


namespace annals {

// Runs `annals admin token ARGS` (ARGS: "create", NAME, ROLE). Writes the
// new token on the first line of `out` and the tokens-file line
// "NAME ROLE SHA256HEX" on the second, or with `json` one object
// {"name","role","token","tokensFileLine"}; says on `err` that the token is
// shown only once. NAME and ROLE are checked as annalsd checks its file
// (services/auth/principals_file.h). Returns the exit code: 0, 2 for a bad
// command line (the message on `err` names what is wrong), 1 when no token
// could be made.
int AdminTokenCommand(const std::vector<char*>& args, bool json,
                      std::ostream& out, std::ostream& err);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_TOKEN_COMMAND_H_
