// The appends of annals-bench's live fan-out scenarios (fanout over gRPC,
// sse-fanout over HTTP): one generated event per unary Append call, at a
// steady rate, each call sent on schedule whatever the calls before it are
// waiting for (gRPC's callback API: one pacing thread, no thread per call
// in flight), each call's start kept by event for the subscribers'
// append-to-delivery latency.
//
//   PacedAppends appends(options);
//   appends.Warmup(*clients[0], absl::Seconds(1));   // unmeasured
//   ... open the subscriptions ...
//   appends.Run(clients);                            // blocks
//   absl::StatusOr<uint64_t> end = appends.AppendEnd(*clients[0]);
#ifndef ANNALS_CLIENTS_BENCH_PACED_APPENDS_H_
#define ANNALS_CLIENTS_BENCH_PACED_APPENDS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/bench/event_generator.h"
#include "clients/cpp/client.h"

namespace annals::bench {

// The steady clock in nanoseconds: the time base of sent_at and of the
// subscribers' receive times.
int64_t SteadyNowNs();

struct PacedAppendOptions {
  // Events go to this stream with ids "<stream>-<i>", i = 0 .. events-1;
  // the warm-up's to "<stream>-warmup", the end marker is "<stream>-end".
  std::string stream;
  double rate = 1000;   // events per second, in total
  uint64_t events = 1;  // how many Run appends
};

// Not thread-safe: call Warmup, Run and AppendEnd from one thread, in that
// order. sent_at may be read from any thread meanwhile.
class PacedAppends {
 public:
  explicit PacedAppends(PacedAppendOptions options);

  // Appends as many events as `rate` makes in `duration`, 100 per call, to
  // the warm-up stream (so that the figure is the steady state rather than
  // the first appends to each dyad after annalsd opened its log). Failures
  // count as errors.
  void Warmup(Client& client, absl::Duration duration);

  // Sends event i at start + i / rate on clients[i % clients.size()],
  // then waits until every call is answered.
  void Run(const std::vector<std::unique_ptr<Client>>& clients);

  // Appends the end marker (id end_id()) after Run: subscribers that see
  // it have seen everything. Its position, or the error (also counted).
  absl::StatusOr<uint64_t> AppendEnd(Client& client);

  // The index of the event with `id`, when it is one Run appends.
  bool IndexOf(absl::string_view id, uint64_t* index) const;

  const std::string& end_id() const { return end_id_; }
  uint64_t planned() const { return options_.events; }

  // When the Append call of event i started (SteadyNowNs), 0 before it
  // did. Any thread, any time.
  int64_t sent_at(uint64_t i) const { return sent_ns_[i].load(); }

  // After Run: the events appended without error, how long Run took from
  // its start to the last answer, every call's latency, and event i's log
  // position (0 when its append failed).
  uint64_t appended() const { return appended_.load(); }
  double seconds() const { return seconds_; }
  std::vector<double>& append_ms() { return append_ms_; }
  uint64_t position(uint64_t i) const { return positions_[i]; }

  // Failed appends (warm-up, Run and the end marker) and the first one's
  // error.
  uint64_t errors() const { return errors_.load(); }
  std::string first_error() const;

 private:
  void Error(const absl::Status& status);

  const PacedAppendOptions options_;
  const std::string end_id_;
  const EventGenerator generator_;
  std::vector<std::atomic<int64_t>> sent_ns_;
  std::vector<uint64_t> positions_;  // each written by one Run thread
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> errors_{0};
  double seconds_ = 0;
  std::vector<double> append_ms_;
  mutable absl::Mutex mu_;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_PACED_APPENDS_H_
