// annals-bench's queries over annalsd's HTTP/JSON gateway
// (http-get-relationship): the same loop as the gRPC query scenarios
// (get-relationship), one HTTP/1.1 keep-alive connection per client
// thread, each sending a GET and reading the whole JSON answer before the
// next, for a duration after an unmeasured warm-up. Latency is per call,
// from the request's write to the answer's last byte; an answer counts
// when it is 200 with a JSON object as its body (read, not parsed).
#ifndef ANNALS_CLIENTS_BENCH_HTTP_QUERIES_H_
#define ANNALS_CLIENTS_BENCH_HTTP_QUERIES_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "clients/bench/http_target.h"

namespace annals::bench {

struct HttpQueryOptions {
  HttpTarget target;
  // The request target of query number `i` of a thread, drawn with the
  // thread's `rng` ("/v1/relationships/JPN-PRK?asOfPosition=7").
  std::function<std::string(std::mt19937_64& rng, uint64_t i)> path;
  // Printed first: scenario=NAME VARIANT.
  std::string name;
  std::string variant;
  int concurrency = 8;
  absl::Duration duration = absl::Seconds(5);
  absl::Duration warmup = absl::ZeroDuration();
  // Thread t draws with the seeds the gRPC query scenarios use (seed *
  // 7919 + t warming up, seed * 1000003 + t measured), so that both ask
  // for the same things in the same order.
  uint64_t seed = 1;
  // annalsd's process id: when set, its CPU per call is reported too.
  pid_t server_pid = 0;
};

// Prints one line (scenario=NAME ... queries_per_s=... p50_ms=...
// errors=N) and returns the exit code: 0 when every call was answered.
int RunHttpQueries(const HttpQueryOptions& options);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_HTTP_QUERIES_H_
