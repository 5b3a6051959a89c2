// annals-bench: drives a running annalsd over gRPC and reports throughput and
// latency percentiles, one line of key=value pairs per run.
//
//   annals-bench --server HOST:PORT --scenario SCENARIO [flags]
//
// Every channel and call goes over TLS and carries a bearer token as
// annals does: --tls-ca, --tls-cert, --tls-key, --tls-server-name, --token,
// --token-file and their environment variables
// (clients/cli/connection_flags.h).
//
// Scenarios:
//   append      --concurrency threads (default 8), each appending batches of
//               --batch events (default 1) in a loop, each thread to its own
//               dyad stream, for --duration; events/s and per-call latency.
//   append-session
//               --concurrency append sessions (default 64), one per thread,
//               each keeping --window requests (default 32) of --batch
//               events (default 1) in flight, for --duration; events/s and
//               per-request latency from send to acknowledgement
//               (clients/bench/append_session.h).
//               Both append scenarios take --ack-log FILE: every
//               acknowledged event's id and position is appended to FILE
//               (clients/bench/ack_log.h), for deploy/crash-loop.sh; and
//               --stalled-subscribers N: N subscriptions from now, open
//               while they run, that never read (clients/bench/stalled.h).
//   read        one client reading the whole log forward in pages of 1000;
//               events/s.
//   generate    appends --events generated events
//               (clients/bench/event_generator.h: --seed, --dyads) as
//               fast as it can: --concurrency writers (default 4)
//               appending blocks of --batch events (default 500);
//               events/s. Deterministic given --seed and --batch;
//               running it again writes nothing new (ids are stable).
//   catchup     one Subscribe from the start of the log until caught up,
//               --batch events per message (default 1000; 1: one event per
//               message); events/s, checking every position arrives once,
//               in order.
//   fanout      --subscribers Subscribe calls from now over --channels
//               channels (gRPC's callback API: no thread per subscriber),
//               then one event appended per unary call, each sent on
//               schedule, at --rate events/s for --duration; latency from the
//               start of each Append call to the delivery of its event at
//               each subscriber (the client's steady clock), over all
//               deliveries; checks every subscriber got every event once,
//               in order. --watchers WatchRelationship calls meanwhile.
//   get-relationship
//               --concurrency threads calling GetRelationship on random
//               dyads of the log (from ListRelationships), or always on
//               --dyad, for --duration; --as-of none|position|date|mixed;
//               queries/s and latency.
//   http-get-relationship
//               the same calls as get-relationship (same flags, same
//               random draws) as `GET /v1/relationships/{dyad}` to
//               annalsd's HTTP gateway at --http-server, one keep-alive
//               connection per thread (clients/bench/http_queries.h).
//   sse-fanout  --subscribers `GET /v1/subscribe?fromNow` event streams
//               from --http-server, held by --http-threads threads, while
//               fanout's appends run at --rate; latency from each Append
//               call to each delivery, every stream checked for missed or
//               repeated positions (clients/bench/sse_fanout.h).
//   timeline    --concurrency threads calling QueryTimeline for pages of
//               --page-size results for --duration, with --filter dyad (a
//               random dyad), actor (a random actor of the log's dyads),
//               kind (a random kind), range (a random span of three years)
//               or mixed (each in turn); queries/s and latency.
//
// Every scenario prints `scenario=NAME` first and `errors=N` last, and exits
// 1 when a call failed or nothing was done. With --server-pid (annalsd's
// process id) the query and sse-fanout scenarios report annalsd's CPU
// (and sse-fanout its resident set) over what they measured.
//
// A cluster (several annalsd replicas of one log of record): --replicas
// HOST:PORT,... spreads the channels over them, channel n to the (n mod
// N)-th, instead of connecting all to --server; append-session and fanout
// then spread their sessions, appends and subscriptions alike. With
// --cpu-pids LABEL=PID,... append, append-session and fanout report the
// CPU of this process (cpu_us.client) and of each of those processes with
// their descendants (cpu_us.LABEL) in microseconds per event over what
// they measured, and each process's own by thread name (cpu_threads.LABEL;
// clients/bench/cpu_meter.h).
#include <algorithm>
#include <optional>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/bench/ack_log.h"
#include "clients/bench/append_session.h"
#include "clients/bench/channel.h"
#include "clients/bench/cpu_meter.h"
#include "clients/bench/driver.h"
#include "clients/bench/event_generator.h"
#include "clients/bench/http_queries.h"
#include "clients/bench/http_target.h"
#include "clients/bench/process_stats.h"
#include "clients/bench/relationship_asks.h"
#include "clients/bench/sse_fanout.h"
#include "clients/bench/stalled.h"
#include "clients/bench/subscriptions.h"
#include "clients/cpp/client.h"
#include "clients/cpp/credentials.h"
#include "clients/cli/connection_flags.h"
#include "clients/cli/dashed_flags.h"
#include "clients/cli/program_help.h"
#include "google/protobuf/arena.h"
#include "proto/rpc_status.h"

ABSL_FLAG(std::string, server, "", "annalsd HOST:PORT (default as annals).");
ABSL_FLAG(std::string, scenario, "append",
          "append | append-session | read | generate | catchup | fanout | "
          "get-relationship | timeline | http-get-relationship | "
          "sse-fanout (see the top of clients/bench/main.cc).");
ABSL_FLAG(std::string, http_server, "",
          "http-get-relationship, sse-fanout: annalsd's HTTP gateway, "
          "HOST:PORT (its --http-listen); plain HTTP, with --token when "
          "set.");
ABSL_FLAG(int, server_pid, 0,
          "annalsd's process id, on this machine: get-relationship, "
          "timeline, http-get-relationship and sse-fanout then report its "
          "CPU over the measured part (sse-fanout also its resident set).");
ABSL_FLAG(std::vector<std::string>, replicas, {},
          "annalsd replicas of one cluster, HOST:PORT,...: channel n "
          "connects to the (n mod N)-th instead of --server, spreading a "
          "scenario's sessions, appends and subscriptions over them.");
ABSL_FLAG(std::string, cpu_pids, "",
          "append, append-session, fanout: LABEL=PID,... of processes on "
          "this machine (annalsd, its replicas, NATS servers) whose CPU per "
          "event over the measured part, with their descendants', is "
          "reported as cpu_us.LABEL, next to this process's "
          "(cpu_us.client).");
ABSL_FLAG(int, concurrency, 0,
          "append, generate, get-relationship, timeline, "
          "http-get-relationship: client threads (0: 8, or 4 for "
          "generate).");
ABSL_FLAG(int, window, 32,
          "append-session: requests in flight per session.");
ABSL_FLAG(int, channels, 8, "gRPC channels (connections) the threads share.");
ABSL_FLAG(int, batch, 0,
          "append, generate: events per Append call (0: 1 for append, 500 "
          "for generate; at most annalsd's --max-append-events, 1000). "
          "catchup, fanout, sse-fanout: most events per Subscribe message "
          "(0: 1000).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5),
          "append, fanout, get-relationship, timeline and their HTTP "
          "twins: how long.");
ABSL_FLAG(absl::Duration, warmup, absl::ZeroDuration(),
          "get-relationship, timeline, http-get-relationship: how long to "
          "query, unmeasured, before --duration starts; append-session: "
          "how long to append, unmeasured (sessions of their own, with "
          "their own event ids), before; fanout, "
          "sse-fanout: how long to append (at --rate, "
          "to another stream) before the subscriptions open. Warms "
          "annalsd's caches: a cold figure is the same one with none.");
ABSL_FLAG(std::string, run_id, "",
          "append, fanout, sse-fanout: prefix of event ids (default: the "
          "time).");
ABSL_FLAG(std::string, ack_log, "",
          "append, append-session: append \"ID POSITION\" of every "
          "acknowledged event to this file, flushed as each arrives.");
ABSL_FLAG(int, stalled_subscribers, 0,
          "append, append-session: Subscribe calls from now that never "
          "read, open while the appends run (over 8 connections of their "
          "own).");
ABSL_FLAG(int64_t, events, 100000, "generate: how many events.");
ABSL_FLAG(uint64_t, seed, 1, "generate: the seed of the generated log.");
ABSL_FLAG(int, dyads, 200, "generate: distinct dyads.");
ABSL_FLAG(double, corrections, 0.01,
          "generate: the fraction of events that are corrections (amend or "
          "retract the event before them). annalsd rebuilds the dyad of each "
          "correction from its whole timeline, so they cost more and more as "
          "dyads grow.");
ABSL_FLAG(int64_t, first_event, 0,
          "generate: the index of the first event to append (a multiple of "
          "--batch), to resume a generation that stopped; --events counts "
          "from 0.");
ABSL_FLAG(int, subscribers, 1,
          "fanout: concurrent subscriptions; sse-fanout: event streams.");
ABSL_FLAG(int, http_threads, 1,
          "sse-fanout: threads serving every event stream.");
ABSL_FLAG(int, watchers, 0,
          "fanout: WatchRelationship calls open meanwhile, over the log's "
          "dyads.");
ABSL_FLAG(double, rate, 1000,
          "fanout, sse-fanout: events appended per second in total.");
ABSL_FLAG(int, stream_window, 16 << 10,
          "fanout: the subscribers' HTTP/2 stream receive window in bytes, "
          "fixed (0: gRPC's default, grown by BDP probing). A small window "
          "has annalsd put the events that arrive while a subscriber's last "
          "message is in flight into its next message.");
ABSL_FLAG(std::string, as_of, "none",
          "get-relationship, http-get-relationship: none | position | date "
          "| mixed.");
ABSL_FLAG(std::string, dyad, "",
          "get-relationship, http-get-relationship: ask for this dyad "
          "(\"JPN-PRK\") every call instead of a random one of the log.");
ABSL_FLAG(std::string, filter, "mixed",
          "timeline: dyad | actor | kind | range | mixed.");
ABSL_FLAG(int, page_size, 50, "timeline: results per page.");

namespace annals {
namespace {

using SteadyClock = std::chrono::steady_clock;

double MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start)
      .count();
}

struct Stats {
  std::vector<double> latencies_ms;
  uint64_t events = 0;
  uint64_t errors = 0;
  std::string first_error;

  void Error(const absl::Status& status) {
    if (errors++ == 0) first_error = rpc::OneLine(status);
  }
  void Merge(const Stats& other) {
    events += other.events;
    errors += other.errors;
    if (first_error.empty()) first_error = other.first_error;
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(),
                        other.latencies_ms.end());
  }
};

// " p50_ms=... p99_ms=... p999_ms=..." of `latencies_ms`.
std::string Percentiles(std::vector<double>& latencies_ms) {
  return absl::StrFormat(" p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f",
                         bench::Percentile(latencies_ms, 0.50),
                         bench::Percentile(latencies_ms, 0.99),
                         bench::Percentile(latencies_ms, 0.999));
}

void ReportErrors(const Stats& all) {
  if (all.errors > 0) std::cerr << "first error: " << all.first_error << "\n";
}

std::string RunId() {
  std::string run_id = absl::GetFlag(FLAGS_run_id);
  if (run_id.empty()) run_id = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  return run_id;
}

int FlagOr(int value, int fallback) { return value > 0 ? value : fallback; }

// `count` clients over distinct channels (distinct connections).
std::vector<std::unique_ptr<Client>> MakeClients(
    const bench::Endpoint& endpoint, int count) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < std::max(1, count); ++c) {
    clients.push_back(std::make_unique<Client>(
        bench::BenchChannel(endpoint, c), absl::Seconds(60)));
  }
  // Connected before any clock starts: a figure measures calls, not
  // connection set-up (whose rare failure on a busy machine failed a whole
  // 256-client figure once). One that does not connect shows in the calls.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (auto& client : clients) client->channel()->WaitForConnected(deadline);
  return clients;
}

// --cpu-pids as a meter; nullopt after saying why.
std::optional<bench::CpuMeter> CpuMeterOf() {
  return bench::CpuMeterOf("annals-bench", absl::GetFlag(FLAGS_cpu_pids));
}

// Opens --ack_log into `log` when it is set; false (after saying why) when
// it cannot be opened.
bool OpenAckLog(std::unique_ptr<bench::AckLog>* log) {
  const std::string path = absl::GetFlag(FLAGS_ack_log);
  if (path.empty()) return true;
  absl::StatusOr<std::unique_ptr<bench::AckLog>> opened =
      bench::AckLog::Open(path);
  if (!opened.ok()) {
    std::cerr << "annals-bench: " << opened.status().message() << "\n";
    return false;
  }
  *log = *std::move(opened);
  return true;
}

// Runs `body(thread, stats)` on `threads` threads and returns their stats
// merged.
template <typename Body>
Stats RunThreads(int threads, Body body) {
  std::vector<Stats> stats(static_cast<size_t>(threads));
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { body(t, stats[static_cast<size_t>(t)]); });
  }
  for (auto& t : running) t.join();
  Stats all;
  for (const Stats& s : stats) all.Merge(s);
  return all;
}

// ---------------------------------------------------------------------------
// append, read

int RunAppend(const bench::Endpoint& endpoint) {
  const int concurrency = FlagOr(absl::GetFlag(FLAGS_concurrency), 8);
  const int batch = FlagOr(absl::GetFlag(FLAGS_batch), 1);
  const std::string run_id = RunId();
  std::unique_ptr<bench::AckLog> ack_log;
  if (!OpenAckLog(&ack_log)) return 2;
  bench::AckLog* const acks = ack_log.get();
  std::optional<bench::CpuMeter> cpu = CpuMeterOf();
  if (!cpu.has_value()) return 2;
  std::vector<std::unique_ptr<Client>> clients =
      MakeClients(endpoint, absl::GetFlag(FLAGS_channels));
  const bench::StalledSubscribers stalled(
      endpoint, absl::GetFlag(FLAGS_stalled_subscribers), 8);
  cpu->Start();
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  Stats all = RunThreads(concurrency, [&](int t, Stats& s) {
    Client& client = *clients[static_cast<size_t>(t) % clients.size()];
    for (int i = 0; absl::Now() < end; ++i) {
      v1::AppendRequest request;
      for (int k = 0; k < batch; ++k) {
        *request.add_events() = bench::MakeEvent(
            absl::StrCat(run_id, "-t", t, "-", i, "-", k), t * 7919 + i);
      }
      const auto before = SteadyClock::now();
      absl::StatusOr<v1::AppendResponse> response = client.Append(request);
      s.latencies_ms.push_back(MillisSince(before));
      if (response.ok()) {
        if (acks != nullptr) acks->Record(request, *response);
        s.events += static_cast<uint64_t>(batch);
      } else {
        s.Error(response.status());
      }
    }
  });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string cpu_used = cpu->Report(static_cast<double>(all.events));
  const size_t calls = all.latencies_ms.size();
  std::cout << absl::StrFormat(
      "scenario=append concurrency=%d batch=%d events=%d seconds=%.2f "
      "events_per_s=%.0f calls=%d%s%s errors=%d\n",
      concurrency, batch, all.events, seconds,
      static_cast<double>(all.events) / seconds, calls,
      Percentiles(all.latencies_ms), cpu_used, all.errors);
  ReportErrors(all);
  return all.errors == 0 && all.events > 0 ? 0 : 1;
}

int RunAppendSession(const bench::Endpoint& endpoint) {
  bench::AppendSessionRun run;
  run.sessions = FlagOr(absl::GetFlag(FLAGS_concurrency), 64);
  run.batch = FlagOr(absl::GetFlag(FLAGS_batch), 1);
  run.window = FlagOr(absl::GetFlag(FLAGS_window), 32);
  run.duration = absl::GetFlag(FLAGS_duration);
  run.run_id = RunId();
  std::unique_ptr<bench::AckLog> ack_log;
  if (!OpenAckLog(&ack_log)) return 2;
  run.acks = ack_log.get();
  std::optional<bench::CpuMeter> cpu = CpuMeterOf();
  if (!cpu.has_value()) return 2;
  const bench::StalledSubscribers stalled(
      endpoint, absl::GetFlag(FLAGS_stalled_subscribers), 8);
  std::vector<std::unique_ptr<Client>> clients =
      MakeClients(endpoint, absl::GetFlag(FLAGS_channels));
  const absl::Duration warmup =
      std::max(absl::ZeroDuration(), absl::GetFlag(FLAGS_warmup));
  if (warmup > absl::ZeroDuration()) {
    bench::AppendSessionRun warm = run;
    warm.duration = warmup;
    warm.run_id = absl::StrCat(run.run_id, "-warmup");
    const bench::AppendSessionResult warmed =
        bench::RunAppendSessions(clients, warm);
    if (warmed.errors > 0) {
      std::cerr << "warm-up: " << warmed.first_error << "\n";
      return 1;
    }
  }
  cpu->Start();
  bench::AppendSessionResult result = bench::RunAppendSessions(clients, run);
  const std::string cpu_used =
      cpu->Report(static_cast<double>(result.events));
  std::cout << absl::StrFormat(
      "scenario=append-session concurrency=%d batch=%d window=%d "
      "replicas=%d warmup_s=%g events=%d seconds=%.2f events_per_s=%.0f "
      "calls=%d%s%s errors=%d\n",
      run.sessions, run.batch, run.window,
      std::max<size_t>(1, endpoint.replicas.size()),
      absl::ToDoubleSeconds(warmup), result.events,
      result.seconds, static_cast<double>(result.events) / result.seconds,
      result.requests, Percentiles(result.latencies_ms), cpu_used,
      result.errors);
  if (result.errors > 0) {
    std::cerr << "first error: " << result.first_error << "\n";
  }
  return result.errors == 0 && result.events > 0 ? 0 : 1;
}

int RunRead(const bench::Endpoint& endpoint) {
  Client client(bench::BenchChannel(endpoint, 0), absl::Seconds(30));
  v1::ReadAllRequest request;
  request.set_limit(1000);
  uint64_t events = 0;
  const absl::Time start = absl::Now();
  for (;;) {
    absl::StatusOr<v1::ReadAllResponse> page = client.ReadAll(request);
    if (!page.ok()) {
      std::cerr << rpc::OneLine(page.status()) << "\n";
      return 1;
    }
    events += static_cast<uint64_t>(page->events_size());
    if (page->end_of_log()) break;
    request.set_from_position(page->next_position());
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "scenario=read events=%d seconds=%.2f events_per_s=%.0f errors=0\n", events,
      seconds, static_cast<double>(events) / seconds);
  return events > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// generate

bool Retryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status) || absl::IsAborted(status);
}

int RunGenerate(const bench::Endpoint& endpoint) {
  const int concurrency = FlagOr(absl::GetFlag(FLAGS_concurrency), 4);
  const int batch = FlagOr(absl::GetFlag(FLAGS_batch), 500);
  const int64_t total = absl::GetFlag(FLAGS_events);
  bench::GeneratorOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.dyads = absl::GetFlag(FLAGS_dyads);
  options.block_size = batch;
  options.correction_fraction = absl::GetFlag(FLAGS_corrections);
  const bench::EventGenerator generator(options);
  const int64_t first_event = absl::GetFlag(FLAGS_first_event);
  if (first_event < 0 || first_event % batch != 0) {
    std::cerr << "annals-bench: --first-event must be a multiple of --batch\n";
    return 2;
  }
  const uint64_t num_batches =
      (static_cast<uint64_t>(std::max<int64_t>(total, 0)) + static_cast<uint64_t>(batch) - 1) /
      static_cast<uint64_t>(batch);
  std::vector<std::unique_ptr<Client>> clients =
      MakeClients(endpoint,
                  std::min(concurrency, absl::GetFlag(FLAGS_channels)));
  std::atomic<uint64_t> next_batch{static_cast<uint64_t>(first_event / batch)};
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> bytes{0};
  const absl::Time start = absl::Now();
  Stats all = RunThreads(concurrency, [&](int t, Stats& s) {
    Client& client = *clients[static_cast<size_t>(t) % clients.size()];
    for (;;) {
      const uint64_t b = next_batch.fetch_add(1);
      if (b >= num_batches) return;
      v1::AppendRequest request;
      // Streams of a few dozen batches each: the batches mix dyads, so a
      // derived (per-dyad) stream is not possible.
      request.set_stream(
          absl::StrCat(generator.options().id_prefix, "-s", b % 64));
      const uint64_t first = b * static_cast<uint64_t>(batch);
      const uint64_t last = std::min(first + static_cast<uint64_t>(batch),
                                     static_cast<uint64_t>(total));
      for (uint64_t n = first; n < last; ++n) {
        *request.add_events() = generator.Make(n);
      }
      bytes += request.ByteSizeLong();
      absl::StatusOr<v1::AppendResponse> response;
      for (int attempt = 0;; ++attempt) {
        const auto before = SteadyClock::now();
        response = client.Append(request);
        s.latencies_ms.push_back(MillisSince(before));
        if (response.ok() || !Retryable(response.status()) || attempt == 5) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
      if (!response.ok()) {
        s.Error(response.status());
        continue;
      }
      s.events += last - first;
      const uint64_t now_done = done.fetch_add(1) + 1;
      const uint64_t first_batch = static_cast<uint64_t>(first_event / batch);
      const uint64_t todo = num_batches > first_batch ? num_batches - first_batch : 1;
      if (todo >= 100 && now_done % (todo / 20) == 0) {
        std::cerr << absl::StrFormat("generate: %d%% (%.0f events/s)\n",
                                     now_done * 100 / todo,
                                     static_cast<double>(now_done * static_cast<uint64_t>(batch)) /
                                         absl::ToDoubleSeconds(absl::Now() - start));
      }
    }
  });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "scenario=generate concurrency=%d batch=%d seed=%d dyads=%d events=%d "
      "seconds=%.2f events_per_s=%.0f avg_event_bytes=%.0f calls=%d%s "
      "errors=%d\n",
      concurrency, batch, options.seed, generator.dyads().size(), all.events,
      seconds, static_cast<double>(all.events) / seconds,
      all.events > 0 ? static_cast<double>(bytes.load()) / static_cast<double>(all.events) : 0.0,
      all.latencies_ms.size(), Percentiles(all.latencies_ms), all.errors);
  ReportErrors(all);
  return all.errors == 0 && all.events > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// catchup, fanout (clients/bench/subscriptions.h), sse-fanout
// (clients/bench/sse_fanout.h)

int RunCatchup(const bench::Endpoint& endpoint) {
  bench::CatchupOptions options;
  options.endpoint = endpoint;
  options.events_per_message = FlagOr(absl::GetFlag(FLAGS_batch), 1000);
  return bench::RunCatchup(options);
}

int RunFanout(const bench::Endpoint& endpoint) {
  bench::FanoutOptions options;
  options.endpoint = endpoint;
  options.subscribers = absl::GetFlag(FLAGS_subscribers);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.stream_window = absl::GetFlag(FLAGS_stream_window);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.run_id = RunId();
  options.events_per_message = FlagOr(absl::GetFlag(FLAGS_batch), 1000);
  options.watchers = absl::GetFlag(FLAGS_watchers);
  options.warmup = std::max(absl::ZeroDuration(), absl::GetFlag(FLAGS_warmup));
  std::optional<bench::CpuMeter> cpu = CpuMeterOf();
  if (!cpu.has_value()) return 2;
  options.cpu = &*cpu;
  return bench::RunFanout(options);
}

// --http-server as a target, with --token; nullopt after saying why.
std::optional<bench::HttpTarget> HttpTargetOf(const bench::Endpoint& endpoint) {
  absl::StatusOr<bench::HttpTarget> target = bench::ParseHttpTarget(
      absl::GetFlag(FLAGS_http_server), endpoint.credentials.token);
  if (!target.ok()) {
    std::cerr << "annals-bench: " << target.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(target);
}

int RunSseFanout(const bench::Endpoint& endpoint) {
  const std::optional<bench::HttpTarget> target = HttpTargetOf(endpoint);
  if (!target.has_value()) return 2;
  bench::SseFanoutOptions options;
  options.endpoint = endpoint;
  options.target = *target;
  options.streams = absl::GetFlag(FLAGS_subscribers);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.threads = absl::GetFlag(FLAGS_http_threads);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.warmup = std::max(absl::ZeroDuration(), absl::GetFlag(FLAGS_warmup));
  options.run_id = RunId();
  options.events_per_message = FlagOr(absl::GetFlag(FLAGS_batch), 1000);
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  return bench::RunSseFanout(options);
}

// ---------------------------------------------------------------------------
// get-relationship, timeline, http-get-relationship

// Runs `query(client, rng, query_index, stats)` on --concurrency threads for
// --duration; each returns the results it got (for the average).
template <typename Query>
int RunQueries(const bench::Endpoint& endpoint, const std::string& name,
               const std::string& variant, Query query) {
  const int concurrency = FlagOr(absl::GetFlag(FLAGS_concurrency), 8);
  std::vector<std::unique_ptr<Client>> clients =
      MakeClients(endpoint,
                  std::min(concurrency, absl::GetFlag(FLAGS_channels)));
  std::atomic<uint64_t> results{0};
  const absl::Duration warmup =
      std::max(absl::ZeroDuration(), absl::GetFlag(FLAGS_warmup));
  if (warmup > absl::ZeroDuration()) {
    // The same queries (other random draws), not measured; an error here
    // shows again in the measured part.
    const absl::Time warm_end = absl::Now() + warmup;
    RunThreads(concurrency, [&](int t, Stats&) {
      Client& client = *clients[static_cast<size_t>(t) % clients.size()];
      std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) * 7919u +
                          static_cast<uint64_t>(t));
      for (uint64_t i = 0; absl::Now() < warm_end; ++i) {
        (void)query(client, rng, i);
      }
    });
  }
  const pid_t server = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu_before = bench::SelfCpuSeconds();
  const double server_cpu_before =
      server > 0 ? bench::ProcessCpuSeconds(server) : 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  Stats all = RunThreads(concurrency, [&](int t, Stats& s) {
    Client& client = *clients[static_cast<size_t>(t) % clients.size()];
    std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) * 1000003u + static_cast<uint64_t>(t));
    uint64_t got = 0;
    for (uint64_t i = 0; absl::Now() < end; ++i) {
      const auto before = SteadyClock::now();
      absl::StatusOr<int> count = query(client, rng, i);
      s.latencies_ms.push_back(MillisSince(before));
      if (count.ok()) {
        ++s.events;
        got += static_cast<uint64_t>(*count);
      } else {
        s.Error(count.status());
      }
    }
    results += got;
  });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  // CPU per call, this process's and annalsd's.
  const double calls =
      std::max(1.0, static_cast<double>(all.latencies_ms.size()));
  std::string cpu = absl::StrFormat(
      " client_cpu_us_per_query=%.0f",
      (bench::SelfCpuSeconds() - client_cpu_before) / calls * 1e6);
  if (server > 0) {
    absl::StrAppendFormat(
        &cpu, " server_cpu_us_per_query=%.0f",
        (bench::ProcessCpuSeconds(server) - server_cpu_before) / calls * 1e6);
  }
  std::cout << absl::StrFormat(
      "scenario=%s %s warmup_s=%g concurrency=%d queries=%d seconds=%.2f "
      "queries_per_s=%.0f results_per_query=%.1f%s%s errors=%d\n",
      name, variant, absl::ToDoubleSeconds(warmup), concurrency, all.events,
      seconds,
      static_cast<double>(all.events) / seconds,
      all.events > 0 ? static_cast<double>(results.load()) / static_cast<double>(all.events) : 0.0,
      Percentiles(all.latencies_ms), cpu, all.errors);
  ReportErrors(all);
  return all.errors == 0 && all.events > 0 ? 0 : 1;
}

// --as-of and --dyad, checked against the log over gRPC; nullopt after
// saying why (`*exit_code` set).
std::optional<bench::RelationshipAsks> PrepareRelationshipAsks(
    const bench::Endpoint& endpoint, int* exit_code) {
  std::vector<std::unique_ptr<Client>> probe = MakeClients(endpoint, 1);
  absl::StatusOr<bench::RelationshipAsks> asks =
      bench::RelationshipAsks::Prepare(*probe[0], absl::GetFlag(FLAGS_as_of),
                                       absl::GetFlag(FLAGS_dyad));
  if (absl::IsInvalidArgument(asks.status())) {
    std::cerr << "annals-bench: " << asks.status().message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  if (!asks.ok()) {
    std::cerr << rpc::OneLine(asks.status()) << "\n";
    *exit_code = 1;
    return std::nullopt;
  }
  return *std::move(asks);
}

int RunGetRelationship(const bench::Endpoint& endpoint) {
  int exit_code = 0;
  const std::optional<bench::RelationshipAsks> asks =
      PrepareRelationshipAsks(endpoint, &exit_code);
  if (!asks.has_value()) return exit_code;
  return RunQueries(
      endpoint, "get-relationship", asks->Variant(),
      [&](Client& client, std::mt19937_64& rng,
          uint64_t i) -> absl::StatusOr<int> {
        const v1::GetRelationshipRequest request = asks->Make(rng, i);
        // Parsed on an arena, as a client keeping up with large states
        // would (Client::GetRelationship into a message): the thread's
        // own, whose first block holds a whole state, reset after each.
        thread_local std::vector<char> block(1 << 20);
        thread_local google::protobuf::Arena arena([] {
          google::protobuf::ArenaOptions options;
          options.initial_block = block.data();
          options.initial_block_size = block.size();
          return options;
        }());
        const absl::Status status = client.GetRelationship(
            request,
            google::protobuf::Arena::CreateMessage<v1::GetRelationshipResponse>(
                &arena));
        arena.Reset();
        if (!status.ok()) return status;
        return 1;
      });
}

int RunHttpGetRelationship(const bench::Endpoint& endpoint) {
  const std::optional<bench::HttpTarget> target = HttpTargetOf(endpoint);
  if (!target.has_value()) return 2;
  int exit_code = 0;
  const std::optional<bench::RelationshipAsks> asks =
      PrepareRelationshipAsks(endpoint, &exit_code);
  if (!asks.has_value()) return exit_code;
  bench::HttpQueryOptions options;
  options.target = *target;
  options.name = "http-get-relationship";
  options.variant = asks->Variant();
  options.concurrency = FlagOr(absl::GetFlag(FLAGS_concurrency), 8);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.warmup = std::max(absl::ZeroDuration(), absl::GetFlag(FLAGS_warmup));
  options.seed = absl::GetFlag(FLAGS_seed);
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  options.path = [&asks](std::mt19937_64& rng, uint64_t i) {
    return bench::RelationshipAsks::HttpPath(asks->Make(rng, i));
  };
  return bench::RunHttpQueries(options);
}

int RunTimeline(const bench::Endpoint& endpoint) {
  const std::string filter = absl::GetFlag(FLAGS_filter);
  if (filter != "dyad" && filter != "actor" && filter != "kind" &&
      filter != "range" && filter != "mixed") {
    std::cerr
        << "annals-bench: --filter must be dyad, actor, kind, range or mixed\n";
    return 2;
  }
  const int page_size = std::max(1, absl::GetFlag(FLAGS_page_size));
  std::vector<std::unique_ptr<Client>> probe = MakeClients(endpoint, 1);
  absl::StatusOr<std::vector<std::string>> dyads =
      bench::ListDyads(*probe[0]);
  if (!dyads.ok()) {
    std::cerr << rpc::OneLine(dyads.status()) << "\n";
    return 1;
  }
  std::vector<std::string> actors;
  for (const std::string& dyad : *dyads) {
    for (absl::string_view actor : absl::StrSplit(dyad, '-')) {
      actors.emplace_back(actor);
    }
  }
  std::sort(actors.begin(), actors.end());
  actors.erase(std::unique(actors.begin(), actors.end()), actors.end());
  const std::vector<std::string>& kinds = bench::GeneratorKinds();
  return RunQueries(
      endpoint, "timeline",
      absl::StrCat("filter=", filter, " page_size=", page_size),
      [&](Client& client, std::mt19937_64& rng,
          uint64_t i) -> absl::StatusOr<int> {
        v1::QueryTimelineRequest request;
        request.set_page_size(page_size);
        const int which = filter == "mixed" ? static_cast<int>(i % 4)
                          : filter == "dyad"  ? 0
                          : filter == "kind"  ? 1
                          : filter == "range" ? 2
                                              : 3;
        if (which == 0) {
          request.set_dyad(bench::PickFrom(*dyads, rng));
          request.set_descending(rng() % 2 == 0);
        } else if (which == 3) {
          request.set_actor(bench::PickFrom(actors, rng));
          request.set_descending(rng() % 2 == 0);
        } else if (which == 1) {
          request.add_kinds(bench::PickFrom(kinds, rng));
        } else {
          const int year = 1990 + static_cast<int>(rng() % 33);
          request.mutable_from()->set_year(year);
          request.mutable_to()->set_year(year + 2);
        }
        absl::StatusOr<v1::QueryTimelineResponse> response =
            client.QueryTimeline(request);
        if (!response.ok()) return response.status();
        return response->entries_size();
      });
}

}  // namespace
}  // namespace annals

int main(int argc, char** argv) {
  // As annalsd: Debian's abseil tracks every Mutex acquisition in a lock
  // graph (GraphCycles::GetId was 2% of this client at 64 sessions), CPU
  // taken from the server it measures on the same cores.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  constexpr absl::string_view kUsage =
      "annals-bench --server HOST:PORT --scenario SCENARIO [flags]\n"
      "  [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] [--token-file FILE]\n"
      "Scenarios (one key=value line per run):\n"
      "  append            --concurrency N --batch N --duration D\n"
      "  append-session    --concurrency N --batch N --window W --duration D\n"
      "  read              reads the whole log forward\n"
      "  generate          --events N [--seed S --dyads N --batch 500 "
      "--concurrency 4]\n"
      "  catchup           one Subscribe from the start until caught up\n"
      "  fanout            --subscribers N --rate R --duration D "
      "[--channels N]\n"
      "  get-relationship  --concurrency N --duration D "
      "[--as-of none|position|date|mixed --dyad D]\n"
      "  timeline          --concurrency N --duration D "
      "[--filter dyad|actor|kind|range|mixed --page-size 50]\n"
      "  http-get-relationship  --http-server HOST:PORT, then as "
      "get-relationship\n"
      "  sse-fanout        --http-server HOST:PORT --subscribers N --rate R "
      "--duration D [--http-threads 1]\n"
      "A cluster: --replicas HOST:PORT,... spreads the channels over its "
      "replicas.\n"
      "--cpu-pids LABEL=PID,... (append, append-session, fanout) reports "
      "those processes' CPU per event, and by thread name.";
  if (std::optional<int> answered = annals::AnswerHelpOrVersion(
          argc, argv, "annals-bench", kUsage, [](absl::string_view file) {
            return absl::StrContains(file, "clients/");
          })) {
    return *answered;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  annals::ClientOptions options;
  options.server = absl::GetFlag(FLAGS_server).empty()
                       ? annals::DefaultServerAddress()
                       : absl::GetFlag(FLAGS_server);
  const absl::Status flags = annals::ApplyConnectionFlags(&options);
  if (!flags.ok()) {
    std::cerr << "annals-bench: " << flags.message() << "\n";
    return 2;
  }
  absl::StatusOr<annals::ClientCredentials> credentials =
      annals::LoadClientCredentials(options);
  if (!credentials.ok()) {
    std::cerr << "annals-bench: "
              << annals::ConnectionFlagError(credentials.status()) << "\n";
    return 2;
  }
  const annals::bench::Endpoint endpoint{options.server,
                                         *std::move(credentials),
                                         absl::GetFlag(FLAGS_replicas)};
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (scenario == "append") return annals::RunAppend(endpoint);
  if (scenario == "append-session") return annals::RunAppendSession(endpoint);
  if (scenario == "read") return annals::RunRead(endpoint);
  if (scenario == "generate") return annals::RunGenerate(endpoint);
  if (scenario == "catchup") return annals::RunCatchup(endpoint);
  if (scenario == "fanout") return annals::RunFanout(endpoint);
  if (scenario == "get-relationship") {
    return annals::RunGetRelationship(endpoint);
  }
  if (scenario == "timeline") return annals::RunTimeline(endpoint);
  if (scenario == "http-get-relationship") {
    return annals::RunHttpGetRelationship(endpoint);
  }
  if (scenario == "sse-fanout") return annals::RunSseFanout(endpoint);
  std::cerr << "annals-bench: unknown --scenario '" << scenario
            << "' (append, append-session, read, generate, catchup, fanout, "
               "get-relationship, timeline, http-get-relationship, "
               "sse-fanout)\n";
  return 2;
}
