// annalsd: the annals server. Opens (or creates) the event log in
// --data-dir and serves it over gRPC on --listen until SIGTERM or SIGINT.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cli/dashed_flags.h"
#include "clients/cli/program_help.h"
#include "annals_commit.h"
#include "services/admin/backup.h"
#include "log/log.h"
#include "services/auth/authenticator.h"
#include "services/http/http_server.h"
#include "services/metrics/http_endpoint.h"
#include "services/metrics/server_metrics.h"
#include "services/relationships/projector.h"
#include "services/server/cluster_mode.h"
#include "services/transport/listen_address.h"
#include "services/server/server.h"
#include "services/server/startup_log.h"
#include "services/server/systemd_notifier.h"
#include "services/transport/tls_credentials.h"
#include "storage/event_log.h"

// jemalloc (linked in: services/server/CMakeLists.txt): two arenas
// instead of its default four per CPU. Threads of different arenas cannot
// reuse each other's freed pages, so memory one kind of work freed (an
// as-of query's fold on a gRPC thread) stayed resident while another
// allocated afresh (a thousand subscriptions' messages): on the 1M-event
// log, the peak after as-of queries and 1,000 lagging subscribers went
// 367 -> 257 MB, with the same fan-out latency
// (docs/benchmarks-changes.md).
extern "C" {
const char* malloc_conf = "narenas:2";
}

ABSL_FLAG(std::string, listen, "127.0.0.1:7465",
          "HOST:PORT to serve gRPC on. Port 0 picks a free port (see "
          "--port-file). Use 0.0.0.0:7465 to accept remote clients; an "
          "address that is not loopback needs --tls-cert and --tls-key (or "
          "--allow-insecure-listen).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain to serve TLS with (with --tls-key). Read "
          "again on SIGHUP: new connections get the new certificate, open "
          "ones keep theirs.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates of client certificates (mTLS): clients are "
          "asked for a certificate, and one that presents an invalid one "
          "(expired, of another CA) is refused at the handshake. Needs "
          "--auth-certs to give certificates their roles.");
ABSL_FLAG(bool, allow_insecure_listen, false,
          "Serve plaintext on an address that is not loopback (a trusted "
          "network only: tokens and events travel in the clear).");
ABSL_FLAG(std::string, auth_tokens, "",
          "File of bearer tokens, one 'NAME ROLE SHA256HEX' line each (annals "
          "admin token create prints them). With it (or --auth-certs) every "
          "call must authenticate; roles: reader, writer, auditor, admin. "
          "Read again on SIGHUP.");
ABSL_FLAG(std::string, auth_certs, "",
          "File of client certificate subjects, one 'SUBJECT ROLE' line each "
          "(SUBJECT: the certificate's CN, else its first SAN). Read again on "
          "SIGHUP.");
ABSL_FLAG(int64_t, max_auth_failures_per_minute, 30,
          "Failed token attempts one peer address may make per minute; past "
          "it, its calls get RESOURCE_EXHAUSTED until it earns another. 0: "
          "no limit.");
ABSL_FLAG(bool, reflection, true,
          "Serve gRPC server reflection (open to every caller, as health "
          "checking is).");
ABSL_FLAG(std::string, data_dir, "annals-data",
          "Directory of the RocksDB event log; created when missing. One "
          "annalsd at a time may use it.");
ABSL_FLAG(std::string, durability, "sync",
          "'sync': every commit group is fsynced before it is acknowledged, "
          "so an acknowledged append survives a crash of the process or the "
          "machine. 'buffered': written to the OS without fsync; survives a "
          "crash of annalsd (kill -9) but not a power loss or kernel crash.");
ABSL_FLAG(int64_t, max_append_events, 1000,
          "Most events one Append may carry; more is RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_event_bytes, 64 << 10,
          "Largest serialized event accepted; larger is RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, block_cache_mb, 64, "RocksDB block cache size in MiB.");
ABSL_FLAG(int64_t, relationship_answers_mb, 16,
          "MiB of GetRelationship answers (current states) kept in memory "
          "for the next ask, until a commit changes them; 0 keeps none.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT: how long calls in flight may take to finish "
          "before they are cancelled.");
ABSL_FLAG(bool, verify_on_start, false,
          "Recompute the whole hash chain before serving and refuse to start "
          "when it does not verify. (The last event is always checked.)");
ABSL_FLAG(int64_t, max_subscriptions, 10000,
          "Most Subscribe and WatchRelationship calls open at once; more get "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_streams_per_connection, 1000,
          "Most Subscribe, WatchRelationship and AppendSession calls one "
          "connection may have open at once; more get RESOURCE_EXHAUSTED "
          "with a hint to retry. 0: no limit.");
ABSL_FLAG(int64_t, max_request_mb_in_flight, 64,
          "MiB of append requests (Append calls, AppendSession requests) "
          "read and not yet durable, over all clients; a request that would "
          "pass it gets RESOURCE_EXHAUSTED with a hint to retry (one is "
          "always admitted while none is in flight). 0: no limit.");
ABSL_FLAG(int64_t, max_streams_per_principal, 5000,
          "Most Subscribe, WatchRelationship and AppendSession calls one "
          "principal (token, certificate, or without authentication one "
          "address) may have open at once over all its connections. 0: no "
          "limit.");
ABSL_FLAG(int64_t, max_request_mb_in_flight_per_principal, 32,
          "MiB of append requests one principal may have read and not yet "
          "durable (one is always admitted while it has none). 0: no limit.");
ABSL_FLAG(int64_t, subscription_window, 8192,
          "Recent events kept in memory for live subscriptions (at most 32 "
          "MiB of them). A subscriber further behind reads from storage and "
          "is told it fell behind.");
ABSL_FLAG(absl::Duration, subscription_wake_interval, absl::ZeroDuration(),
          "Least time between two wake-ups of the live subscriptions: "
          "commits closer together are delivered together, at most this "
          "much later, in one message per subscription. 0: each at once.");
ABSL_FLAG(int64_t, append_session_window, 1024,
          "EventLog.AppendSession: requests one session may have read but "
          "not yet acknowledged; it stops reading while that many are.");
ABSL_FLAG(int64_t, append_session_window_mb, 16,
          "EventLog.AppendSession: the same window in MiB of requests.");
ABSL_FLAG(std::string, signing_key, "",
          "PEM Ed25519 private key that signs tree heads (Audit service). "
          "Default: DATA_DIR/signing_key.pem, created with mode 0600 on first "
          "start. A given file must exist and be readable by its owner only.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve GET /metrics (Prometheus text format) on HOST:PORT, e.g. "
          "127.0.0.1:9465; empty: no metrics endpoint. Like --listen, an "
          "address beyond loopback needs --tls-cert (the endpoint then speaks "
          "HTTPS) or --allow-insecure-listen; with --auth-tokens a bearer "
          "token of the reader role (or above) is required.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "When set, write the metrics endpoint's bound port to this file "
          "(for --metrics-listen HOST:0).");
ABSL_FLAG(std::string, http_listen, "",
          "Serve the HTTP/JSON API, server-sent events and the dashboard on "
          "HOST:PORT, e.g. 127.0.0.1:7466; empty: no HTTP. Like --listen, an "
          "address beyond loopback needs --tls-cert (HTTP then speaks HTTPS "
          "with the same certificate, client CAs and tokens as gRPC) or "
          "--allow-insecure-listen.");
ABSL_FLAG(std::string, http_port_file, "",
          "When set, write the HTTP port to this file (for --http-listen "
          "HOST:0).");
ABSL_FLAG(std::string, http_assets, "",
          "Serve the dashboard from this directory instead of the copy built "
          "into annalsd (for working on clients/dashboard).");
ABSL_FLAG(std::vector<std::string>, http_cors_origin, {},
          "Origins whose pages may call the HTTP API from a browser, "
          "comma-separated (https://dash.example.org); default none.");
ABSL_FLAG(absl::Duration, http_heartbeat, absl::Seconds(15),
          "How often an open event stream gets a heartbeat comment.");
ABSL_FLAG(std::string, restore_from, "",
          "Before serving, restore the newest backup of this directory (see "
          "annals admin backup) into --data-dir, which must be missing or "
          "empty: each file's checksum is verified first, and the restored "
          "log must match the backup's tree head, signed by --signing-key "
          "(required). Refuses to serve otherwise.");
ABSL_FLAG(uint32_t, restore_backup_id, 0,
          "With --restore-from: restore this backup instead of the newest.");
ABSL_FLAG(std::string, port_file, "",
          "When set, write the bound port to this file once serving (for "
          "scripts and tests that listen on port 0).");
ABSL_FLAG(std::string, log_format, "text",
          "'text': one line per event on stderr, 'TIME LEVEL event=NAME "
          "key=value ...'. 'json': one JSON object per line, {\"time\":...,"
          "\"level\":...,\"event\":...,...}.");
ABSL_FLAG(int64_t, slow_request_ms, 1000,
          "Log every unary call that takes at least this many milliseconds "
          "(event=slow_request: method, principal, duration, status). 0: "
          "every unary call; negative: none.");

namespace {

// A flag that does not go with the others: logged, exit status 2.
int BadFlag(absl::string_view error) {
  annals::log::Error("refused", {{"error", error}});
  return 2;
}

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// What secures the server: its TLS and its authentication, each absent
// when not configured.
struct Security {
  std::unique_ptr<annals::services::TlsCredentials> tls;
  std::unique_ptr<annals::auth::Authenticator> authenticator;
};

// The security the flags ask for, or why it cannot be had (the message
// names the flag).
absl::StatusOr<Security> LoadSecurity() {
  Security security;
  annals::services::TlsFiles files{absl::GetFlag(FLAGS_tls_cert),
                                   absl::GetFlag(FLAGS_tls_key),
                                   absl::GetFlag(FLAGS_tls_client_ca)};
  annals::auth::AuthOptions auth;
  auth.tokens_file = absl::GetFlag(FLAGS_auth_tokens);
  auth.certs_file = absl::GetFlag(FLAGS_auth_certs);
  auth.max_failures_per_minute = static_cast<int>(std::clamp<int64_t>(
      absl::GetFlag(FLAGS_max_auth_failures_per_minute), 0, 1 << 20));
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both or neither");
  }
  if (!files.client_ca.empty() && files.cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (files.client_ca.empty() != auth.certs_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca and --auth-certs go together: the CA verifies "
        "client certificates, the file gives them their roles");
  }
  if (!files.cert.empty()) {
    absl::StatusOr<std::unique_ptr<annals::services::TlsCredentials>> tls =
        annals::services::TlsCredentials::Load(files);
    if (!tls.ok()) return tls.status();
    security.tls = *std::move(tls);
  }
  if (!auth.tokens_file.empty() || !auth.certs_file.empty()) {
    absl::StatusOr<std::unique_ptr<annals::auth::Authenticator>>
        authenticator = annals::auth::Authenticator::Load(auth);
    if (!authenticator.ok()) return authenticator.status();
    security.authenticator = *std::move(authenticator);
  }
  return security;
}

// SIGHUP: reads the certificates and the tokens and certificates files
// again; what fails to load is kept as it was, and said.
void Reload(const Security& security) {
  if (security.tls != nullptr) {
    absl::Status reloaded = security.tls->Reload();
    if (reloaded.ok()) {
      annals::log::Info("tls_reloaded", {{"subject", security.tls->subject()}});
    } else {
      annals::log::Warn(
          "tls_reload_failed",
          {{"error", reloaded.ToString()}, {"kept", "the certificate in use"}});
    }
  }
  if (security.authenticator != nullptr) {
    absl::Status reloaded = security.authenticator->Reload();
    if (reloaded.ok()) {
      annals::log::Info(
          "principals_reloaded",
          {{"tokens", security.authenticator->tokens()},
           {"certificates", security.authenticator->certificates()}});
    } else {
      annals::log::Warn(
          "principals_reload_failed",
          {{"error", reloaded.ToString()}, {"kept", "the principals in use"}});
    }
  }
  if (security.tls == nullptr && security.authenticator == nullptr) {
    annals::log::Info("reload_skipped",
                      {{"reason", "no TLS, no authentication"}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  const absl::Time started_at = absl::Now();
  // Signals are taken by sigwait below; block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // Debian's abseil is built with its debug checks, which track every Mutex
  // acquisition in a lock graph (GraphCycles); the server pays that on every
  // lock. The tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  constexpr absl::string_view kUsage =
      "annals server: a durable, event-sourced diplomatic timeline.\n"
      "  annalsd [--listen HOST:PORT] [--data-dir DIR] [--durability "
      "sync|buffered] ...";
  if (std::optional<int> answered = annals::AnswerHelpOrVersion(
          argc, argv, "annalsd", kUsage, [](absl::string_view file) {
            return absl::StrContains(file, "services/server/");
          })) {
    return *answered;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<std::string> args = annals::UnderscoreFlagNames(argc, argv);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  absl::StatusOr<annals::log::Format> log_format =
      annals::log::ParseFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) {
    std::cerr << "annalsd: --log-format: " << log_format.status().message()
              << "\n";
    return 2;
  }
  annals::log::SetFormat(*log_format);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  annals::services::LogStart(
      absl::GetFlag(FLAGS_listen), data_dir, [](absl::string_view file) {
        return absl::StrContains(file, "services/server/");
      });
  if (positional.size() > 1) {
    return BadFlag(absl::StrCat("unexpected argument '", positional[1],
                                "' (see annalsd --help)"));
  }

  if (absl::GetFlag(FLAGS_relationship_answers_mb) < 0) {
    return BadFlag("--relationship-answers-mb must be >= 0");
  }
  annals::services::RelationshipProjector projector(
      static_cast<size_t>(absl::GetFlag(FLAGS_relationship_answers_mb)) << 20);
  annals::storage::LogOptions log_options;
  // Measures the log, the appends, every RPC and the subscriptions, so it
  // outlives them all; only when the metrics endpoint serves them.
  annals::metrics::ServerMetrics metrics(ANNALS_VERSION, ANNALS_COMMIT);
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  annals::metrics::ServerMetrics* const measured =
      metrics_listen.empty() ? nullptr : &metrics;
  log_options.observer = measured;
  // The hub hears of every commit, so it exists before the log opens and
  // goes after it.
  annals::services::SubscriptionOptions subscription_options;
  subscription_options.observer = measured;
  subscription_options.max_subscriptions = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_max_subscriptions)));
  subscription_options.window_events = static_cast<size_t>(
      std::max<int64_t>(1, absl::GetFlag(FLAGS_subscription_window)));
  subscription_options.wake_interval = std::max(
      absl::ZeroDuration(), absl::GetFlag(FLAGS_subscription_wake_interval));
  annals::services::SubscriptionHub hub(subscription_options);
  // Calls that wait for a position are released as commits reach it.
  annals::services::PositionGate position_gate;
  log_options.on_commit =
      [to_hub = hub.CommitListener(), &position_gate](
          const std::vector<const annals::v1::RecordedEvent*>& events,
          const annals::storage::Head& head) {
        to_hub(events, head);
        position_gate.Reached(head.position);
      };
  log_options.projector = &projector;
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "sync") {
    log_options.sync = true;
  } else if (durability == "buffered") {
    log_options.sync = false;
  } else {
    return BadFlag(absl::StrCat(
        "--durability must be 'sync' or 'buffered', got '", durability, "'"));
  }
  if (absl::GetFlag(FLAGS_max_append_events) < 1 ||
      absl::GetFlag(FLAGS_max_event_bytes) < 1024 ||
      absl::GetFlag(FLAGS_block_cache_mb) < 1) {
    return BadFlag(
        "--max-append-events must be >= 1, --max-event-bytes >= 1024 and "
        "--block-cache-mb >= 1");
  }
  log_options.block_cache_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_block_cache_mb)) << 20;

  absl::StatusOr<Security> security = LoadSecurity();
  absl::Status secure =
      security.ok() ? annals::services::CheckListenSecurity(
                          absl::GetFlag(FLAGS_listen), security->tls != nullptr,
                          absl::GetFlag(FLAGS_allow_insecure_listen))
                    : security.status();
  for (const std::string& listen :
       {metrics_listen, absl::GetFlag(FLAGS_http_listen)}) {
    if (secure.ok() && !listen.empty()) {
      secure = annals::services::CheckListenSecurity(
          listen, security->tls != nullptr,
          absl::GetFlag(FLAGS_allow_insecure_listen));
    }
  }
  if (!secure.ok()) return BadFlag(secure.message());
  if (absl::Status cluster = annals::services::CheckClusterFlags();
      !cluster.ok()) {
    return BadFlag(cluster.message());
  }

  absl::StatusOr<std::string> restored = annals::services::RestoreBackup(
      {absl::GetFlag(FLAGS_restore_from), absl::GetFlag(FLAGS_restore_backup_id),
       data_dir, absl::GetFlag(FLAGS_signing_key)});
  if (!restored.ok()) {
    annals::log::Error("refused", {{"error", restored.status().ToString()}});
    return absl::IsInvalidArgument(restored.status()) ? 2 : 1;
  }
  if (!restored->empty()) annals::log::Info("restored", {{"detail", *restored}});

  annals::services::SystemdNotifier notifier(
      annals::services::SystemdNotifier::FromEnvironment());
  notifier.Status(absl::StrCat("opening the event log in ", data_dir));
  const absl::Time opening = absl::Now();
  absl::StatusOr<std::unique_ptr<annals::storage::EventLog>> log =
      annals::services::OpenEventLog(data_dir, log_options);
  if (!log.ok()) {
    annals::log::Error(
        "start_failed",
        {{"error", absl::StrCat("cannot open the event log in ", data_dir, ": ",
                                log.status().ToString())}});
    return 1;
  }
  const std::optional<annals::storage::RebuildReport> rebuilt =
      (*log)->RebuiltOnOpen();
  annals::log::Info(
      "recovered",
      {{"head", (*log)->GetHead().position},
       {"open_ms", annals::log::Milliseconds(absl::Now() - opening)},
       {"projections", rebuilt.has_value() ? "rebuilt" : "kept"},
       {"projection_version", projector.Version()},
       {"rebuilt_events", rebuilt.has_value() ? rebuilt->events : 0},
       {"rebuilt_entries", rebuilt.has_value() ? rebuilt->keys : 0}});
  metrics.Watch(log->get(), &hub, data_dir);
  position_gate.Reached((*log)->GetHead().position);
  if (absl::GetFlag(FLAGS_verify_on_start)) {
    const absl::Time verifying = absl::Now();
    absl::Status verified = (*log)->VerifyChain();
    if (!verified.ok()) {
      annals::log::Error("start_failed", {{"error", verified.ToString()}});
      return 1;
    }
    annals::log::Info(
        "chain_verified",
        {{"verify_ms", annals::log::Milliseconds(absl::Now() - verifying)}});
  }

  std::string signing_key = absl::GetFlag(FLAGS_signing_key);
  const bool default_key = signing_key.empty();
  if (default_key) signing_key = absl::StrCat(data_dir, "/signing_key.pem");
  absl::StatusOr<std::unique_ptr<annals::services::TreeHeadSigner>> signer =
      annals::services::TreeHeadSigner::LoadOrCreate(signing_key, default_key);
  if (!signer.ok()) {
    annals::log::Error("start_failed", {{"error", signer.status().ToString()}});
    return 1;
  }

  annals::services::ServerOptions options;
  options.signer = signer->get();
  options.relationship_answers = projector.answers();
  options.listen = absl::GetFlag(FLAGS_listen);
  options.limits.max_append_events =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_append_events));
  options.limits.max_event_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_event_bytes));
  options.append_session.window_requests = static_cast<size_t>(
      std::max<int64_t>(1, absl::GetFlag(FLAGS_append_session_window)));
  options.append_session.window_bytes =
      static_cast<size_t>(
          std::max<int64_t>(1, absl::GetFlag(FLAGS_append_session_window_mb)))
      << 20;
  options.admission.max_streams_per_connection = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_max_streams_per_connection)));
  options.admission.request_bytes_in_flight =
      static_cast<size_t>(
          std::max<int64_t>(0, absl::GetFlag(FLAGS_max_request_mb_in_flight)))
      << 20;
  options.admission.max_streams_per_principal = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_max_streams_per_principal)));
  options.admission.request_bytes_in_flight_per_principal =
      static_cast<size_t>(std::max<int64_t>(
          0, absl::GetFlag(FLAGS_max_request_mb_in_flight_per_principal)))
      << 20;
  if (security->tls != nullptr) {
    options.tls = security->tls->ServerCredentials();
  }
  options.allow_insecure_listen = absl::GetFlag(FLAGS_allow_insecure_listen);
  options.authenticator = security->authenticator.get();
  options.reflection = absl::GetFlag(FLAGS_reflection);
  options.metrics = measured;
  options.position_gate = &position_gate;
  options.append_session.observer = measured;
  const int64_t slow_request_ms = absl::GetFlag(FLAGS_slow_request_ms);
  options.slow_request =
      slow_request_ms < 0
          ? std::nullopt
          : std::optional<absl::Duration>(absl::Milliseconds(slow_request_ms));
  options.facts.started_at = started_at;
  options.facts.durability =
      log_options.sync ? annals::v1::GetServerInfoResponse::DURABILITY_SYNC
                       : annals::v1::GetServerInfoResponse::DURABILITY_BUFFERED;
  options.facts.projection_version = projector.Version();
  absl::StatusOr<std::unique_ptr<annals::services::Server>> server =
      annals::services::Server::Start(options, log->get(), &hub);
  if (!server.ok()) {
    annals::log::Error("start_failed", {{"error", server.status().ToString()}});
    return 1;
  }
  // The metrics endpoint serves before --port-file says annalsd does.
  std::unique_ptr<annals::metrics::MetricsEndpoint> metrics_endpoint;
  if (!metrics_listen.empty()) {
    annals::metrics::EndpointOptions endpoint;
    endpoint.listen = metrics_listen;
    if (security->tls != nullptr) {
      endpoint.tls_cert = absl::GetFlag(FLAGS_tls_cert);
      endpoint.tls_key = absl::GetFlag(FLAGS_tls_key);
    }
    endpoint.authenticator = security->authenticator.get();
    absl::StatusOr<std::unique_ptr<annals::metrics::MetricsEndpoint>> started =
        annals::metrics::MetricsEndpoint::Start(
            endpoint, [&metrics] { return metrics.Render(); });
    if (!started.ok()) {
      annals::log::Error("start_failed",
                         {{"error", started.status().message()}});
      return 1;
    }
    metrics_endpoint = *std::move(started);
    const std::string metrics_port_file =
        absl::GetFlag(FLAGS_metrics_port_file);
    if (!metrics_port_file.empty() &&
        !WritePortFile(metrics_port_file, metrics_endpoint->port())) {
      annals::log::Error("start_failed",
                         {{"error", absl::StrCat("cannot write --metrics-port-file ",
                                                 metrics_port_file)}});
      return 1;
    }
    annals::log::Info(
        "metrics_listening",
        {{"address", metrics_listen},
         {"port", metrics_endpoint->port()},
         {"scheme", security->tls != nullptr ? "https" : "http"}});
  }
  // So does HTTP.
  std::unique_ptr<annals::http::HttpServer> http;
  if (!absl::GetFlag(FLAGS_http_listen).empty()) {
    annals::http::HttpOptions http_options;
    http_options.listen = absl::GetFlag(FLAGS_http_listen);
    http_options.tls = security->tls.get();
    http_options.allow_insecure_listen = options.allow_insecure_listen;
    http_options.cors_origins = absl::GetFlag(FLAGS_http_cors_origin);
    http_options.assets_dir = absl::GetFlag(FLAGS_http_assets);
    http_options.heartbeat = absl::GetFlag(FLAGS_http_heartbeat);
    http_options.observer = measured;
    annals::services::Server::GatewayChannel gateway = (*server)->Gateway();
    absl::StatusOr<std::unique_ptr<annals::http::HttpServer>> started =
        annals::http::HttpServer::Start(http_options, gateway.channel,
                                        gateway.key);
    if (!started.ok()) {
      annals::log::Error("start_failed",
                         {{"error", started.status().message()}});
      return 1;
    }
    http = *std::move(started);
    const std::string http_port_file = absl::GetFlag(FLAGS_http_port_file);
    if (!http_port_file.empty() &&
        !WritePortFile(http_port_file, http->port())) {
      annals::log::Error(
          "start_failed",
          {{"error",
            absl::StrCat("cannot write --http-port-file ", http_port_file)}});
      return 1;
    }
    annals::log::Info(
        "http_listening",
        {{"address", http_options.listen},
         {"port", http->port()},
         {"scheme", security->tls != nullptr ? "https" : "http"},
         {"dashboard", http_options.assets_dir.empty() ? "built in"
                                                        : http_options.assets_dir}});
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, (*server)->port())) {
    annals::log::Error(
        "start_failed",
        {{"error", absl::StrCat("cannot write --port-file ", port_file)}});
    return 1;
  }
  if (options.tls == nullptr && options.allow_insecure_listen) {
    annals::log::Warn("insecure_listen",
                      {{"flag", "--allow-insecure-listen"},
                       {"message",
                        "serving plaintext; tokens and events travel in "
                        "the clear"}});
  }
  annals::log::Info(
      "listening",
      {{"address", options.listen},
       {"port", (*server)->port()},
       {"head", (*log)->GetHead().position},
       {"durability", durability},
       {"tls", security->tls != nullptr ? security->tls->subject() : "off"},
       {"client_certificates",
        absl::GetFlag(FLAGS_tls_client_ca).empty() ? "off" : "verified"},
       {"authentication", security->authenticator != nullptr ? "on" : "off"},
       {"tokens", security->authenticator != nullptr
                      ? security->authenticator->tokens()
                      : 0},
       {"certificates", security->authenticator != nullptr
                            ? security->authenticator->certificates()
                            : 0}});
  notifier.Ready(log->get());

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    Reload(*security);
  }
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  const char* reason = sigabbrev_np(signal_number);
  annals::log::Info("shutdown",
                    {{"reason", absl::StrCat("SIG", reason)},
                     {"grace_ms", annals::log::Milliseconds(grace)}});
  notifier.Stopping(absl::StrCat("stopping on SIG", reason));
  const auto draining = std::chrono::steady_clock::now();
  // HTTP first: it ends its event streams and waits for its calls, which
  // the gRPC server still answers.
  http.reset();
  (*server)->Shutdown(grace);
  metrics_endpoint.reset();
  server->reset();
  log->reset();
  annals::log::Info(
      "stopped",
      {{"drain_ms", annals::log::Milliseconds(absl::FromChrono(
                        std::chrono::steady_clock::now() - draining))}});
  return 0;
}
