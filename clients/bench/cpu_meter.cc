#include "clients/bench/cpu_meter.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

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
  for (const auto& [label, pid] : processes_) {
    start_.push_back(ProcessTreeCpuSeconds(pid));
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
