// The events every benchmark writes, and the one loop and output line every
// benchmark driver shares (annals-bench-raw, annals-bench-postgres,
// annals-bench-redis; annals-bench appends the same events).
//
// Events: a ministers' meeting between two of 20 countries (190 dyads),
// with participants, CAMEO code, summary, tags and a source, like the seed
// timeline's events: about 600 bytes as a serialized RecordedEvent.
//
// Output: one line per run, key=value separated by spaces, the same keys as
// annals-bench's:
//   scenario=S concurrency=N batch=B events=E seconds=T events_per_s=R
//   calls=C p50_ms=.. p99_ms=.. p999_ms=.. cpu_us.client=..
//   [cpu_us.LABEL=.. ...] errors=K
// cpu_us.*: microseconds of CPU per event over the measured loop, the
// driver's own and that of each server process given to --cpu-pids, with
// its descendants (clients/bench/cpu_meter.h). deploy/bench.sh tabulates
// these lines.
#ifndef ANNALS_CLIENTS_BENCH_DRIVER_H_
#define ANNALS_CLIENTS_BENCH_DRIVER_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"
#include "clients/bench/cpu_meter.h"

namespace annals::bench {

inline constexpr const char* kCountries[] = {
    "JPN", "PRK", "KOR", "USA", "CHN", "RUS", "FRA", "GBR", "DEU", "IND",
    "BRA", "ZAF", "AUS", "CAN", "MEX", "IDN", "TUR", "IRN", "EGY", "NGA"};
inline constexpr int kNumCountries =
    sizeof(kCountries) / sizeof(kCountries[0]);
inline constexpr int kNumDyads = kNumCountries * (kNumCountries - 1) / 2;

// The two countries of event number `n` (source, target).
inline std::pair<int, int> CountriesOf(int n) {
  const int a = n % kNumCountries;
  const int b =
      (a + 1 + (n / kNumCountries) % (kNumCountries - 1)) % kNumCountries;
  return {a, b};
}

// The stream annalsd derives for event `n` (its primary dyad, codes in
// order: "JPN-PRK").
inline std::string DyadOf(int n) {
  auto [a, b] = CountriesOf(n);
  std::string x = kCountries[a], y = kCountries[b];
  return x < y ? absl::StrCat(x, "-", y) : absl::StrCat(y, "-", x);
}

// 0 .. kNumDyads-1: a dense index of DyadOf(n).
inline int DyadIndexOf(int n) {
  auto [a, b] = CountriesOf(n);
  if (a > b) std::swap(a, b);
  // Pairs (a, b), a < b, in row order.
  return a * (2 * kNumCountries - a - 1) / 2 + (b - a - 1);
}

// Event number `n` with id `id`, the same shape annals-bench appends.
inline v1::Event MakeEvent(const std::string& id, int n) {
  v1::Event event;
  event.set_id(id);
  auto [a, b] = CountriesOf(n);
  event.add_source(kCountries[a]);
  event.add_target(kCountries[b]);
  v1::Date* start = event.mutable_occurred()->mutable_start();
  start->set_year(1990 + n % 35);
  start->set_month(1 + n % 12);
  start->set_day(1 + n % 28);
  v1::Meeting* meeting = event.mutable_meeting();
  meeting->set_type(v1::Meeting::TYPE_TALKS);
  meeting->set_level(v1::Meeting::LEVEL_MINISTERS);
  meeting->set_format(v1::Meeting::FORMAT_VISIT);
  meeting->set_place("Capital city of the host");
  meeting->set_outcome(v1::Meeting::OUTCOME_PROGRESS);
  meeting->add_participants("Foreign Minister of the visiting side");
  meeting->add_participants("Foreign Minister of the host");
  event.set_cameo_code("042");
  event.set_summary(
      "The foreign ministers met for talks on bilateral relations, regional "
      "security and trade, and agreed to continue the dialogue at working "
      "level before the end of the year.");
  event.add_tags("diplomacy");
  event.add_tags("security");
  v1::Source* source = event.add_sources();
  source->set_publisher("Benchmark Wire Service");
  source->set_title("Foreign ministers hold talks on relations and security");
  source->set_url("https://example.org/news/foreign-ministers-talks");
  return event;
}

// The bytes annalsd stores for an event (RecordedEvent without its hash):
// what every peer stores too, so that all write the same payload.
inline std::string StoredBytes(v1::Event event, uint64_t position,
                               const std::string& stream, uint64_t version) {
  v1::RecordedEvent r;
  *r.mutable_event() = std::move(event);
  r.set_position(position);
  r.set_stream(stream);
  r.set_stream_version(version);
  const absl::Time now = absl::Now();
  r.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(now));
  r.mutable_recorded_at()->set_nanos(
      static_cast<int32_t>(absl::ToUnixNanos(now) % 1000000000));
  r.set_principal("anonymous@ipv4:127.0.0.1");
  return r.SerializeAsString();
}

// The default event-id prefix of a run: the time in microseconds, so that
// runs against one server never collide.
inline std::string DefaultRunId() {
  return absl::StrCat(absl::ToUnixMicros(absl::Now()));
}

// The id of event `k` of call `i` of thread `t`, as annals-bench makes it.
inline std::string EventId(const std::string& run_id, int t, int i, int k) {
  return absl::StrCat(run_id, "-t", t, "-", i, "-", k);
}

// The p-quantile (0..1) of `v`; reorders `v`. 0 when empty. Every
// benchmark driver reports its latencies with it.
template <typename T>
T Percentile(std::vector<T>& v, double p) {
  if (v.empty()) return T{};
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i),
                   v.end());
  return v[i];
}

// One call of a benchmark: thread `t` (0..concurrency-1), its call number
// `i` (0, 1, ...). Writes `batch` events and returns OK, or an error; the
// loop counts a failed call's events as not written.
using CallFn = std::function<absl::Status(int t, int i)>;

struct RunResult {
  uint64_t events = 0;
  uint64_t calls = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  std::string first_error;
  std::string cpu;  // " cpu_us.client=.. cpu_us.LABEL=..": CpuMeter::Report
};

// Runs `call` from `concurrency` threads in a loop until `duration` has
// passed; each successful call counts `batch` events. Thread-safe as far as
// `call` is. The CPU `cpu` measures (or this process's alone, when null)
// is that of the loop, from before its threads start until all have
// ended, per event: connect before.
inline RunResult RunLoop(int concurrency, int batch, absl::Duration duration,
                         const CallFn& call, CpuMeter* cpu = nullptr) {
  CpuMeter self_only;
  CpuMeter& meter = cpu != nullptr ? *cpu : self_only;
  struct PerThread {
    std::vector<double> latencies_ms;
    uint64_t events = 0, errors = 0;
    std::string first_error;
  };
  std::vector<PerThread> per(concurrency);
  std::vector<std::thread> threads;
  meter.Start();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      PerThread& s = per[t];
      for (int i = 0; absl::Now() < end; ++i) {
        const auto before = std::chrono::steady_clock::now();
        absl::Status status = call(t, i);
        s.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(
                std::chrono::steady_clock::now() - before)
                .count());
        if (status.ok()) {
          s.events += batch;
        } else if (s.errors++ == 0) {
          s.first_error = status.ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  RunResult r;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (PerThread& s : per) {
    r.events += s.events;
    r.errors += s.errors;
    if (r.first_error.empty()) r.first_error = s.first_error;
    r.latencies_ms.insert(r.latencies_ms.end(), s.latencies_ms.begin(),
                          s.latencies_ms.end());
  }
  r.cpu = meter.Report(static_cast<double>(r.events));
  r.calls = r.latencies_ms.size();
  return r;
}

// Prints `r` as one key=value line on stdout (and the first error on
// stderr). Returns the process exit code: 0 when there were events and no
// errors.
inline int Report(const std::string& scenario, int concurrency, int batch,
                  RunResult& r) {
  std::printf(
      "%s\n",
      absl::StrFormat(
          "scenario=%s concurrency=%d batch=%d events=%d seconds=%.2f "
          "events_per_s=%.0f calls=%d p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f%s "
          "errors=%d",
          scenario, concurrency, batch, r.events, r.seconds,
          r.seconds > 0 ? r.events / r.seconds : 0.0, r.calls,
          Percentile(r.latencies_ms, 0.50), Percentile(r.latencies_ms, 0.99),
          Percentile(r.latencies_ms, 0.999), r.cpu, r.errors)
          .c_str());
  std::fflush(stdout);
  if (r.errors > 0) {
    std::fprintf(stderr, "%s: first error: %s\n", scenario.c_str(),
                 r.first_error.c_str());
  }
  return r.errors == 0 && r.events > 0 ? 0 : 1;
}

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_DRIVER_H_
