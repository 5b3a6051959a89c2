#include "services/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace annals::metrics {
namespace {

// A sample value as the exposition format writes it.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest form that reads back as the same double.
  for (int digits = 6; digits < 17; ++digits) {
    std::string text = absl::StrFormat("%.*g", digits, value);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return absl::StrFormat("%.17g", value);
}

// {a="x",b="y"}, with `extra` (name, value) last; "" without labels.
std::string LabelSet(const std::vector<std::string>& names,
                     const LabelValues& values,
                     const std::pair<std::string, std::string>* extra = nullptr) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    parts.push_back(absl::StrCat(names[i], "=\"", EscapeLabelValue(values[i]), "\""));
  }
  if (extra != nullptr) {
    parts.push_back(absl::StrCat(extra->first, "=\"", extra->second, "\""));
  }
  if (parts.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

void Header(std::string* out, const std::string& name, const std::string& help,
            absl::string_view type) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n", "# TYPE ",
                  name, " ", type, "\n");
}

// The children of `family` sorted by label values, for stable output.
template <typename T, typename Visit>
void ForEachChild(const std::vector<std::pair<LabelValues, const T*>>& children,
                  Visit visit) {
  for (const auto& [values, child] : children) visit(values, *child);
}

}  // namespace

Histogram::Histogram(const std::vector<uint64_t>* bounds)
    : bounds_(bounds),
      buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(uint64_t value) {
  const size_t bucket =
      std::lower_bound(bounds_->begin(), bounds_->end(), value) -
      bounds_->begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(total);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<uint64_t> LatencyBounds() {
  std::vector<uint64_t> bounds;
  for (uint64_t decade = 10'000; decade <= 1'000'000'000; decade *= 10) {
    for (uint64_t step : {5, 10, 25}) bounds.push_back(decade * step);
  }
  return bounds;
}

std::vector<uint64_t> PowersOfTwo(int n) {
  std::vector<uint64_t> bounds;
  for (int i = 0; i < n; ++i) bounds.push_back(uint64_t{1} << i);
  return bounds;
}

template <>
std::unique_ptr<Counter> Family<Counter>::MakeChild() const {
  return std::make_unique<Counter>();
}
template <>
std::unique_ptr<Gauge> Family<Gauge>::MakeChild() const {
  return std::make_unique<Gauge>();
}
template <>
std::unique_ptr<Histogram> Family<Histogram>::MakeChild() const {
  return std::make_unique<Histogram>(&bounds_);
}

Family<Counter>* Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  auto family = std::make_unique<Family<Counter>>();
  family->name_ = std::move(name);
  family->help_ = std::move(help);
  family->labels_ = std::move(labels);
  absl::MutexLock lock(&mu_);
  counters_.push_back(std::move(family));
  order_.push_back({.counter = counters_.back().get()});
  return counters_.back().get();
}

Family<Gauge>* Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  auto family = std::make_unique<Family<Gauge>>();
  family->name_ = std::move(name);
  family->help_ = std::move(help);
  family->labels_ = std::move(labels);
  absl::MutexLock lock(&mu_);
  gauges_.push_back(std::move(family));
  order_.push_back({.gauge = gauges_.back().get()});
  return gauges_.back().get();
}

Family<Histogram>* Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<uint64_t> bounds,
                                          double scale,
                                          std::vector<std::string> labels) {
  auto family = std::make_unique<Family<Histogram>>();
  family->name_ = std::move(name);
  family->help_ = std::move(help);
  family->labels_ = std::move(labels);
  family->bounds_ = std::move(bounds);
  family->scale_ = scale;
  absl::MutexLock lock(&mu_);
  histograms_.push_back(std::move(family));
  order_.push_back({.histogram = histograms_.back().get()});
  return histograms_.back().get();
}

void Registry::AddSampled(std::string name, std::string help, bool counter,
                          std::vector<std::string> labels,
                          std::function<void(Samples*)> sample) {
  auto sampled = std::make_unique<Sampled>();
  sampled->name = std::move(name);
  sampled->help = std::move(help);
  sampled->counter = counter;
  sampled->labels = std::move(labels);
  sampled->sample = std::move(sample);
  absl::MutexLock lock(&mu_);
  sampled_.push_back(std::move(sampled));
  order_.push_back({.sampled = sampled_.back().get()});
}

namespace {

// The children of a family, sorted by label values.
template <typename T>
std::vector<std::pair<LabelValues, const T*>> Children(
    const absl::node_hash_map<LabelValues, std::unique_ptr<T>>& children) {
  std::vector<std::pair<LabelValues, const T*>> sorted;
  for (const auto& [values, child] : children) {
    sorted.emplace_back(values, child.get());
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return sorted;
}

}  // namespace

std::string Registry::Render() const {
  std::vector<Entry> order;
  {
    absl::MutexLock lock(&mu_);
    order = order_;
  }
  std::string out;
  for (const Entry& entry : order) {
    if (entry.counter != nullptr) {
      const Family<Counter>& f = *entry.counter;
      Header(&out, f.name_, f.help_, "counter");
      absl::MutexLock lock(&f.mu_);
      ForEachChild(Children(f.children_), [&](const LabelValues& v, const Counter& c) {
        absl::StrAppend(&out, f.name_, LabelSet(f.labels_, v), " ", c.value(), "\n");
      });
    } else if (entry.gauge != nullptr) {
      const Family<Gauge>& f = *entry.gauge;
      Header(&out, f.name_, f.help_, "gauge");
      absl::MutexLock lock(&f.mu_);
      ForEachChild(Children(f.children_), [&](const LabelValues& v, const Gauge& g) {
        absl::StrAppend(&out, f.name_, LabelSet(f.labels_, v), " ", g.value(), "\n");
      });
    } else if (entry.histogram != nullptr) {
      const Family<Histogram>& f = *entry.histogram;
      Header(&out, f.name_, f.help_, "histogram");
      absl::MutexLock lock(&f.mu_);
      ForEachChild(Children(f.children_), [&](const LabelValues& v, const Histogram& h) {
        const Histogram::Snapshot s = h.Read();
        for (size_t i = 0; i <= f.bounds_.size(); ++i) {
          const std::pair<std::string, std::string> le(
              "le", i < f.bounds_.size()
                        ? FormatValue(static_cast<double>(f.bounds_[i]) * f.scale_)
                        : "+Inf");
          absl::StrAppend(&out, f.name_, "_bucket", LabelSet(f.labels_, v, &le),
                          " ", s.cumulative[i], "\n");
        }
        absl::StrAppend(&out, f.name_, "_sum", LabelSet(f.labels_, v), " ",
                        FormatValue(static_cast<double>(s.sum) * f.scale_), "\n",
                        f.name_, "_count", LabelSet(f.labels_, v), " ",
                        s.cumulative.back(), "\n");
      });
    } else {
      const Sampled& s = *entry.sampled;
      Header(&out, s.name, s.help, s.counter ? "counter" : "gauge");
      Samples samples;
      s.sample(&samples);
      for (const auto& [values, value] : samples) {
        absl::StrAppend(&out, s.name, LabelSet(s.labels, values), " ",
                        FormatValue(value), "\n");
      }
    }
  }
  return out;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace annals::metrics
