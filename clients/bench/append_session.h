// annals-bench's append-session scenario: N append sessions, each keeping
// up to W requests of B events in flight, for a duration, all driven by
// two threads (each acknowledgement gives its session the turn to send the
// next request; a failed one does not, so a session that ended sends no
// more); the latency of each request is from its send to its
// acknowledgement.
#ifndef ANNALS_CLIENTS_BENCH_APPEND_SESSION_H_
#define ANNALS_CLIENTS_BENCH_APPEND_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clients/bench/ack_log.h"
#include "clients/cpp/client.h"

namespace annals::bench {

struct AppendSessionRun {
  int sessions = 64;
  int batch = 1;       // events per request
  int window = 32;     // requests in flight per session
  absl::Duration duration = absl::Seconds(5);
  std::string run_id;  // prefix of event ids
  AckLog* acks = nullptr;  // when set, every acknowledged event goes here
};

struct AppendSessionResult {
  uint64_t events = 0;    // acknowledged without error
  uint64_t requests = 0;  // acknowledged, with or without error
  uint64_t errors = 0;    // failed requests and failed sessions
  std::string first_error;
  std::vector<double> latencies_ms;  // one per acknowledged request
  double seconds = 0;                // first send to last acknowledgement
};

// Runs `run`; session i uses clients[i % clients.size()]. Event ids are
// "<run_id>-s<session>-<request>-<event>", each session appending to the
// dyad streams of bench::MakeEvent as the append scenario does.
AppendSessionResult RunAppendSessions(
    const std::vector<std::unique_ptr<Client>>& clients,
    const AppendSessionRun& run);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_APPEND_SESSION_H_
