// Counters, gauges and histograms with labels, and their text in the
// Prometheus exposition format (version 0.0.4). Hand-written: Debian 12
// packages no Prometheus client library for C++. Updating a metric is a
// relaxed atomic add on a child the caller keeps (With() once, then Add or
// Observe on the hot path); rendering takes each family's lock briefly.
#ifndef ANNALS_SERVICES_METRICS_METRICS_H_
#define ANNALS_SERVICES_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace annals::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations are integers in a base unit (nanoseconds, events, bytes);
// the family's scale turns them into the exposed unit (1e-9: seconds).
class Histogram {
 public:
  // `bounds`: the buckets' upper bounds in the base unit, increasing.
  explicit Histogram(const std::vector<uint64_t>* bounds);
  void Observe(uint64_t value);
  void ObserveDuration(absl::Duration d) {
    Observe(static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Nanoseconds(d))));
  }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    uint64_t sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<uint64_t>* const bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds + 1 (+Inf)
  std::atomic<uint64_t> sum_{0};
};

// Bounds in nanoseconds for latencies: 50, 100, 250 µs ... 5, 10, 25 s.
std::vector<uint64_t> LatencyBounds();
// Bounds 1, 2, 4, ... 2^(n-1): sizes and counts.
std::vector<uint64_t> PowersOfTwo(int n);

class Registry;

// A metric family: one name, help and label names, a child per label
// values. Thread-safe; children live as long as the family.
template <typename T>
class Family {
 public:
  T& With(const LabelValues& values) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = children_.find(values);
    if (it == children_.end()) {
      it = children_.try_emplace(values, MakeChild()).first;
    }
    return *it->second;
  }

 private:
  friend class Registry;
  std::unique_ptr<T> MakeChild() const;

  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::vector<uint64_t> bounds_;  // histograms
  double scale_ = 1;              // histograms
  mutable absl::Mutex mu_;
  absl::node_hash_map<LabelValues, std::unique_ptr<T>> children_
      ABSL_GUARDED_BY(mu_);
};

// Families and the callbacks that sample values at scrape time.
class Registry {
 public:
  Family<Counter>* AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>* AddGauge(std::string name, std::string help,
                          std::vector<std::string> labels = {});
  // `scale` multiplies the base unit: 1e-9 for nanoseconds as seconds.
  Family<Histogram>* AddHistogram(std::string name, std::string help,
                                  std::vector<uint64_t> bounds, double scale,
                                  std::vector<std::string> labels = {});

  // A sample taken when the registry renders: a gauge or counter family
  // whose values `sample` appends as (label values, value).
  using Samples = std::vector<std::pair<LabelValues, double>>;
  void AddSampled(std::string name, std::string help, bool counter,
                  std::vector<std::string> labels,
                  std::function<void(Samples*)> sample);

  // Every family in the text exposition format, in the order added.
  std::string Render() const;

 private:
  struct Sampled {
    std::string name;
    std::string help;
    bool counter = false;
    std::vector<std::string> labels;
    std::function<void(Samples*)> sample;
  };
  struct Entry {
    Family<Counter>* counter = nullptr;
    Family<Gauge>* gauge = nullptr;
    Family<Histogram>* histogram = nullptr;
    const Sampled* sampled = nullptr;
  };

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Sampled>> sampled_ ABSL_GUARDED_BY(mu_);
  std::vector<Entry> order_ ABSL_GUARDED_BY(mu_);
};

// A label value or help text escaped for the exposition format.
std::string EscapeLabelValue(const std::string& value);
std::string EscapeHelp(const std::string& help);

}  // namespace annals::metrics

#endif  // ANNALS_SERVICES_METRICS_METRICS_H_
