// The first line annalsd logs (log/log.h), event=start: its version and
// commit, its process id, the address it listens on, its data directory,
// and every flag of its own whose value is not the default (from the
// command line or a flag file), by name: tls_cert=/etc/annals/tls/server.pem.
#ifndef ANNALS_SERVICES_SERVER_STARTUP_LOG_H_
#define ANNALS_SERVICES_SERVER_STARTUP_LOG_H_

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace annals::services {

// Logs event=start. The flags are those defined in a source file for which
// `ours(file)` holds, and --flagfile. annalsd's flags name files and never
// hold a secret themselves (tokens are read from --auth-tokens, whose name
// alone is logged).
void LogStart(absl::string_view listen, absl::string_view data_dir,
              absl::FunctionRef<bool(absl::string_view file)> ours);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_STARTUP_LOG_H_
