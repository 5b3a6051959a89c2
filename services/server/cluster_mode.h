// annalsd's log of record: the embedded RocksDB log (the default), or, with
// --nats, a replica of the JetStream stream on a NATS cluster
// (storage/jetstream/jetstream_log.h). The --nats* and --max-replica-lag
// flags are defined with it (cluster_mode.cc).
#ifndef ANNALS_SERVICES_SERVER_CLUSTER_MODE_H_
#define ANNALS_SERVICES_SERVER_CLUSTER_MODE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/event_log.h"

namespace annals::services {

// Whether --nats turns cluster mode on.
bool ClusterMode();

// INVALID_ARGUMENT naming the flag when the cluster flags are wrong.
absl::Status CheckClusterFlags();

// Opens the event log in `data_dir`: embedded, or in cluster mode a replica
// connected to the log of record and reading it.
absl::StatusOr<std::unique_ptr<storage::EventLog>> OpenEventLog(
    const std::string& data_dir, const storage::LogOptions& options);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_CLUSTER_MODE_H_
