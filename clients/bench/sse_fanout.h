// annals-bench's sse-fanout scenario: live fan-out over annalsd's HTTP
// gateway. N event streams (`GET /v1/subscribe?fromNow`, server-sent
// events) held by this one process on Boost.Asio (a thread or two, not a
// thread per stream), while the fanout scenario's paced appends
// (clients/bench/paced_appends.h) append over gRPC; the latency from the
// start of each Append call to the event's arrival on each stream, over
// all deliveries.
//
// Every stream must get every appended event once, in order: the streams
// are unfiltered and nothing else appends meanwhile, so each stream's
// `id:`s (log positions) must be exactly the appended events' positions
// and the end marker's. What is not (a position missed, repeated or out
// of order) is counted and fails the run.
#ifndef ANNALS_CLIENTS_BENCH_SSE_FANOUT_H_
#define ANNALS_CLIENTS_BENCH_SSE_FANOUT_H_

#include <sys/types.h>

#include <string>

#include "absl/time/time.h"
#include "clients/bench/channel.h"
#include "clients/bench/http_target.h"

namespace annals::bench {

struct SseFanoutOptions {
  Endpoint endpoint;  // gRPC: the appends
  HttpTarget target;  // HTTP: the event streams
  int streams = 1000;
  double rate = 100;  // appended events per second, in total
  int channels = 8;  // gRPC connections the appends share
  int threads = 1;   // threads serving every stream
  absl::Duration duration = absl::Seconds(5);
  absl::Duration warmup = absl::ZeroDuration();  // as FanoutOptions::warmup
  std::string run_id;
  // SubscribeRequest.max_events_per_message (maxEventsPerMessage), as the
  // gRPC fanout asks: annalsd then writes the events ready together in
  // one chunk.
  int events_per_message = 1000;
  // annalsd's process id: when set, its CPU over the run and its resident
  // set before, with and after the streams are reported too.
  pid_t server_pid = 0;
};

// Prints one line (scenario=sse-fanout ...); returns the exit code.
int RunSseFanout(const SseFanoutOptions& options);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_SSE_FANOUT_H_
