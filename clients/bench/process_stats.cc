#include "clients/bench/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace annals::bench {

namespace {

// The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) this file
// reads, CPU in clock ticks.
struct Stat {
  std::string comm;
  pid_t ppid = 0;
  uint64_t utime = 0, stime = 0;    // its own
  int64_t cutime = 0, cstime = 0;  // its ended children's, waited for
};

// The stat file at `path`; false when it cannot be read.
bool ReadStatFile(const std::string& path, Stat* out) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so
  // the fields are counted from the last ')'. ppid is field 4 of the whole
  // line, utime, stime, cutime and cstime 14 to 17: the 2nd and the 12th to
  // 15th after it.
  const size_t open = stat.find('(');
  const size_t paren = stat.rfind(')');
  if (open == std::string::npos || paren == std::string::npos ||
      paren < open) {
    return false;
  }
  out->comm = stat.substr(open + 1, paren - open - 1);
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
  int ppid = 0;
  if (fields.size() < 15 || !absl::SimpleAtoi(fields[1], &ppid) ||
      !absl::SimpleAtoi(fields[11], &out->utime) ||
      !absl::SimpleAtoi(fields[12], &out->stime) ||
      !absl::SimpleAtoi(fields[13], &out->cutime) ||
      !absl::SimpleAtoi(fields[14], &out->cstime)) {
    return false;
  }
  out->ppid = static_cast<pid_t>(ppid);
  return true;
}

// /proc/PID/stat of `pid`; false when it cannot be read.
bool ReadStat(pid_t pid, Stat* out) {
  return ReadStatFile(absl::StrCat("/proc/", pid, "/stat"), out);
}

double TicksToSeconds(double ticks) {
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// utime + stime + cutime + cstime.
double TreeTicks(const Stat& s) {
  return static_cast<double>(s.utime + s.stime) +
         static_cast<double>(s.cutime + s.cstime);
}

}  // namespace

double ProcessCpuSeconds(pid_t pid) {
  Stat s;
  if (!ReadStat(pid, &s)) return -1;
  return TicksToSeconds(static_cast<double>(s.utime + s.stime));
}

double ProcessTreeCpuSeconds(pid_t pid) {
  Stat root;
  if (!ReadStat(pid, &root)) return -1;
  // Every process's parent, then the tree from `pid` down.
  std::unordered_map<pid_t, std::vector<std::pair<pid_t, Stat>>> children;
  if (DIR* proc = opendir("/proc"); proc != nullptr) {
    while (const dirent* entry = readdir(proc)) {
      int child = 0;
      Stat s;
      if (absl::SimpleAtoi(entry->d_name, &child) && child != pid &&
          ReadStat(static_cast<pid_t>(child), &s)) {
        children[s.ppid].emplace_back(static_cast<pid_t>(child), s);
      }
    }
    closedir(proc);
  }
  double ticks = TreeTicks(root);
  std::vector<pid_t> todo = {pid};
  std::unordered_set<pid_t> seen = {pid};  // pids reused while listing
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    const auto it = children.find(parent);
    if (it == children.end()) continue;
    for (const auto& [child, s] : it->second) {
      if (!seen.insert(child).second) continue;
      ticks += TreeTicks(s);
      todo.push_back(child);
    }
  }
  return TicksToSeconds(ticks);
}

std::vector<ThreadCpu> ThreadsCpu(pid_t pid) {
  std::vector<ThreadCpu> threads;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return threads;
  while (const dirent* entry = readdir(dir)) {
    int tid = 0;
    Stat s;
    if (absl::SimpleAtoi(entry->d_name, &tid) &&
        ReadStatFile(absl::StrCat(tasks, "/", tid, "/stat"), &s)) {
      threads.push_back({static_cast<pid_t>(tid), std::move(s.comm),
                         TicksToSeconds(static_cast<double>(s.utime + s.stime))});
    }
  }
  closedir(dir);
  return threads;
}

int64_t ProcessRssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) return kib;
  }
  return -1;
}

double SelfCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double ThreadCpuSeconds(pthread_t thread) {
  clockid_t clock;
  timespec now{};
  if (pthread_getcpuclockid(thread, &clock) != 0 ||
      clock_gettime(clock, &now) != 0) {
    return -1;
  }
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace annals::bench
