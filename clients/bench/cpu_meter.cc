#include "clients/bench/cpu_meter.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "clients/bench/process_stats.h"

namespace annals::bench {
namespace {

bool LabelChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A thread's name as it goes into the report: what LabelChar refuses, and
// ':' (RocksDB's "rocksdb:low"), become '_'.
std::string ThreadLabel(absl::string_view name) {
  std::string label(name);
  for (char& c : label) {
    if (!LabelChar(c)) c = '_';
  }
  return label.empty() ? "_" : label;
}

// " cpu_threads.LABEL=NAME:US,..." of one process: the CPU each thread
// name used since `start` (by thread id; a thread started since counts
// whole, one ended since is missing), per unit, the most first, names
// under 0.05 left out. Empty when the process cannot be read.
std::string ThreadReport(const std::string& label,
                         const absl::flat_hash_map<pid_t, double>& start,
                         pid_t pid, double units) {
  std::vector<ThreadCpu> threads = ThreadsCpu(pid);
  if (threads.empty()) return "";
  absl::flat_hash_map<std::string, double> by_name;
  for (const ThreadCpu& t : threads) {
    auto it = start.find(t.tid);
    const double before = it == start.end() ? 0 : it->second;
    by_name[ThreadLabel(t.name)] += (t.seconds - before) / units * 1e6;
  }
  std::vector<std::pair<std::string, double>> sorted(by_name.begin(),
                                                     by_name.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::string out = absl::StrCat(" cpu_threads.", label, "=");
  bool first = true;
  for (const auto& [name, us] : sorted) {
    if (us < 0.05) continue;
    absl::StrAppendFormat(&out, "%s%s:%.1f", first ? "" : ",", name, us);
    first = false;
  }
  return first ? "" : out;
}

}  // namespace

absl::StatusOr<CpuMeter> CpuMeter::Parse(absl::string_view spec) {
  CpuMeter meter;
  if (spec.empty()) return meter;
  for (absl::string_view item : absl::StrSplit(spec, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    int pid = 0;
    if (kv.first.empty() || kv.first == "client" ||
        !std::all_of(kv.first.begin(), kv.first.end(), LabelChar) ||
        !absl::SimpleAtoi(kv.second, &pid) || pid <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cpu-pids: '", item, "' is not LABEL=PID (a label of letters, "
          "digits, '_' and '-', other than 'client')"));
    }
    meter.processes_.emplace_back(std::string(kv.first),
                                  static_cast<pid_t>(pid));
  }
  return meter;
}

void CpuMeter::Start() {
  start_.clear();
  thread_start_.clear();
  for (const auto& [label, pid] : processes_) {
    start_.push_back(ProcessTreeCpuSeconds(pid));
    absl::flat_hash_map<pid_t, double>& threads = thread_start_.emplace_back();
    for (const ThreadCpu& t : ThreadsCpu(pid)) threads[t.tid] = t.seconds;
  }
  client_start_ = SelfCpuSeconds();
}

std::string CpuMeter::Report(double units) const {
  units = std::max(units, 1.0);
  std::string out = absl::StrFormat(
      " cpu_us.client=%.1f", (SelfCpuSeconds() - client_start_) / units * 1e6);
  for (size_t i = 0; i < processes_.size(); ++i) {
    const double now = ProcessTreeCpuSeconds(processes_[i].second);
    if (now < 0 || i >= start_.size() || start_[i] < 0) {
      absl::StrAppend(&out, " cpu_us.", processes_[i].first, "=?");
    } else {
      absl::StrAppendFormat(&out, " cpu_us.%s=%.1f", processes_[i].first,
                            (now - start_[i]) / units * 1e6);
    }
  }
  for (size_t i = 0; i < processes_.size() && i < thread_start_.size(); ++i) {
    absl::StrAppend(&out, ThreadReport(processes_[i].first, thread_start_[i],
                                       processes_[i].second, units));
  }
  return out;
}

std::optional<CpuMeter> CpuMeterOf(absl::string_view program,
                                   absl::string_view spec) {
  absl::StatusOr<CpuMeter> meter = CpuMeter::Parse(spec);
  if (!meter.ok()) {
    std::cerr << program << ": " << meter.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(meter);
}

}  // namespace annals::bench
