// The annals CLI's backup commands:
//
//   annals admin backup --to DIR   annalsd takes an online backup of its
//                                  log into DIR, a directory on the
//                                  server's host (Admin.CreateBackup)
//   annals admin backups DIR       the backups of DIR, read here: run it on
//                                  the host that holds DIR; no server
//
// Both return the process exit code, like every command of annals_main.cc:
// 0 success; 1 the server (or, for `backups`, the directory) answered with
// an error, one line "CODE: message" on `err`; 2 the command line is wrong
// ("annals: message" on `err`). With `json`, `backup` prints the
// CreateBackupResponse and `backups` one object per backup, each one line
// of JSON on `out`.
#ifndef ANNALS_CLIENTS_CLI_BACKUP_COMMAND_H_
#define ANNALS_CLIENTS_CLI_BACKUP_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "clients/cpp/client.h"

namespace annals {

// `annals admin backup`: `args` are those after "backup" (none), `to` the
// --to flag.
int AdminBackupCommand(Client& client, const std::vector<char*>& args,
                       const std::string& to, bool json, std::ostream& out,
                       std::ostream& err);

// `annals admin backups DIR`: `args` are those after "backups". Lists id,
// creation time, head position, files, size and the signed tree head file
// of each backup, oldest first, and whether that file holds the head the
// backup records.
int AdminBackupsCommand(const std::vector<char*>& args, bool json,
                        std::ostream& out, std::ostream& err);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_BACKUP_COMMAND_H_
