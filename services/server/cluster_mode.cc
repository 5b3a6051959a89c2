// The log annalsd serves, embedded or a replica (cluster_mode.h).
#include "services/server/cluster_mode.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "storage/event_log.h"
#include "storage/jetstream/jetstream_log.h"
#include "storage/replica.h"

ABSL_FLAG(std::vector<std::string>, nats, {},
          "Cluster mode: comma-separated nats:// (or tls://) URLs of the NATS "
          "cluster whose JetStream stream is the log of record. This annalsd "
          "is then one of its replicas: it publishes appends to the stream "
          "and materializes the stream into --data-dir, from which it serves "
          "reads. Without it the log is embedded in --data-dir.");
ABSL_FLAG(std::string, nats_stream, "ANNALS",
          "Cluster mode: the JetStream stream of the log of record (subjects "
          "annals.STREAM.*); created on first use.");
ABSL_FLAG(int32_t, nats_replicas, 3,
          "Cluster mode: replicas of the stream when annalsd creates it.");
ABSL_FLAG(std::string, nats_creds, "",
          "Cluster mode: NATS credentials file (user JWT and NKey seed).");
ABSL_FLAG(std::string, nats_tls_ca, "",
          "Cluster mode: PEM CA certificates to verify the NATS servers.");
ABSL_FLAG(std::string, nats_tls_cert, "",
          "Cluster mode: PEM client certificate to present to NATS (with "
          "--nats-tls-key).");
ABSL_FLAG(std::string, nats_tls_key, "",
          "Cluster mode: PEM private key of --nats-tls-cert.");
ABSL_FLAG(absl::Duration, nats_start_timeout, absl::Seconds(30),
          "Cluster mode: how long annalsd waits at start for JetStream to "
          "answer for the stream (a NATS cluster still forming has no leader "
          "yet) before it gives up.");
ABSL_FLAG(int64_t, max_replica_lag, 10000,
          "Cluster mode: health says NOT_SERVING while this replica is more "
          "than this many appends behind the log of record.");

namespace annals::services {

bool ClusterMode() { return !absl::GetFlag(FLAGS_nats).empty(); }

absl::Status CheckClusterFlags() {
  if (!ClusterMode()) return absl::OkStatus();
  for (const std::string& url : absl::GetFlag(FLAGS_nats)) {
    if (!absl::StartsWith(url, "nats://") && !absl::StartsWith(url, "tls://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--nats: '", url, "' is not a nats:// or tls:// URL"));
    }
  }
  const std::string stream = absl::GetFlag(FLAGS_nats_stream);
  if (stream.empty() ||
      stream.find_first_of(" .*>\t\r\n/\\") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--nats-stream: '", stream,
        "' is not a JetStream stream name (no spaces, '.', '*', '>', "
        "slashes)"));
  }
  const int32_t replicas = absl::GetFlag(FLAGS_nats_replicas);
  if (replicas < 1 || replicas > 5) {
    return absl::InvalidArgumentError(
        "--nats-replicas must be between 1 and 5 (JetStream's range)");
  }
  if (absl::GetFlag(FLAGS_nats_tls_cert).empty() !=
      absl::GetFlag(FLAGS_nats_tls_key).empty()) {
    return absl::InvalidArgumentError(
        "--nats-tls-cert and --nats-tls-key go together");
  }
  if (absl::GetFlag(FLAGS_nats_start_timeout) <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--nats-start-timeout must be longer than 0 (e.g. 30s)");
  }
  if (absl::GetFlag(FLAGS_max_replica_lag) < 0) {
    return absl::InvalidArgumentError("--max-replica-lag must be >= 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::EventLog>> OpenEventLog(
    const std::string& data_dir, const storage::LogOptions& options) {
  if (!ClusterMode()) return storage::OpenRocksEventLog(data_dir, options);
  storage::jetstream::ClusterOptions cluster;
  cluster.nats.servers = absl::GetFlag(FLAGS_nats);
  cluster.nats.stream = absl::GetFlag(FLAGS_nats_stream);
  cluster.nats.replicas = absl::GetFlag(FLAGS_nats_replicas);
  cluster.nats.creds_file = absl::GetFlag(FLAGS_nats_creds);
  cluster.nats.tls_ca = absl::GetFlag(FLAGS_nats_tls_ca);
  cluster.nats.tls_cert = absl::GetFlag(FLAGS_nats_tls_cert);
  cluster.nats.tls_key = absl::GetFlag(FLAGS_nats_tls_key);
  cluster.nats.start_timeout = absl::GetFlag(FLAGS_nats_start_timeout);
  cluster.max_behind =
      static_cast<uint64_t>(absl::GetFlag(FLAGS_max_replica_lag));
  absl::StatusOr<std::unique_ptr<storage::ReplicaLog>> replica =
      storage::OpenRocksReplica(
          data_dir, options, absl::StrCat("jetstream:", cluster.nats.stream));
  if (!replica.ok()) return replica.status();
  absl::StatusOr<std::unique_ptr<storage::jetstream::JetStreamLog>> log =
      storage::jetstream::JetStreamLog::Open(*std::move(replica), cluster);
  if (!log.ok()) return log.status();
  return std::unique_ptr<storage::EventLog>(*std::move(log));
}

}  // namespace annals::services
