// annals-bench's subscription scenarios (see clients/bench/main.cc for the
// command line): catchup and fanout.
#ifndef ANNALS_CLIENTS_BENCH_SUBSCRIPTIONS_H_
#define ANNALS_CLIENTS_BENCH_SUBSCRIPTIONS_H_

#include <string>

#include "absl/time/time.h"
#include "clients/bench/channel.h"
#include "clients/bench/cpu_meter.h"

namespace annals::bench {

struct CatchupOptions {
  Endpoint endpoint;
  // SubscribeRequest.max_events_per_message; 1: one event per message.
  int events_per_message = 1000;
};

// One Subscribe from the start of the log until it says caught up. Parses
// every message and checks that the events are positions 1 ... the
// caught-up position, in order, each once. Prints one line
// (scenario=catchup ...); returns the exit code.
int RunCatchup(const CatchupOptions& options);

struct FanoutOptions {
  Endpoint endpoint;
  int subscribers = 1;
  double rate = 1000;     // appended events per second, in total
  int channels = 8;       // connections the subscriptions and appends share
  // The subscribers' HTTP/2 stream receive window in bytes (see
  // BenchChannel); 0: gRPC's default, grown by BDP probing.
  int stream_window = 16 << 10;
  absl::Duration duration = absl::Seconds(5);
  std::string run_id;     // prefix of the stream and event ids
  int events_per_message = 1000;
  // WatchRelationship calls open meanwhile, over the log's dyads (the
  // first page of ListRelationships) round robin; they count the states
  // they receive (watched_states).
  int watchers = 0;
  // Before the subscriptions open: appends, unmeasured, of as many events
  // as `rate` makes in this time (the same generated events, to a stream
  // of their own), so that the figure is the steady state rather than the
  // first appends to each dyad after annalsd opened its log.
  absl::Duration warmup = absl::ZeroDuration();
  // When set, started as the paced appends start and reported (cpu_us.*,
  // per appended event) once every subscriber has seen the end.
  CpuMeter* cpu = nullptr;
};

// `subscribers` subscriptions from now to a new stream, on gRPC's callback
// API (a few threads, whatever the number of subscribers), then
// one event appended per unary call at `rate` (PacedAppends); the latency
// from the start of each Append to the delivery of its event at each
// subscriber (the client's steady clock), over all deliveries. Checks that
// every subscriber got every appended event exactly once, in stream order
// (stream versions 1, 2, 3, ... without a gap). With endpoint.replicas,
// channel c (subscriptions and appends alike) goes to replica c mod N: the
// subscribers and the appends are spread over the cluster. Prints one line
// (scenario=fanout ...); returns the exit code.
int RunFanout(const FanoutOptions& options);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_SUBSCRIPTIONS_H_
