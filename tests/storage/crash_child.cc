// Appends to the event log in `argv[1]` from several threads until killed,
// printing each event id on stdout, one per line, only after its Append
// returned OK. Used by crash_test.cc, which kills it with SIGKILL at a random
// moment and then checks that every printed id survived.
//
// Usage: storage_crash_child <dir> <run-tag>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annals/v1/event.pb.h"
#include "storage/event_log.h"

namespace {

annals::v1::Event MakeEvent(const std::string& id) {
  annals::v1::Event event;
  event.set_id(id);
  event.add_source("JPN");
  event.add_target("PRK");
  event.mutable_occurred()->mutable_start()->set_year(2002);
  event.mutable_occurred()->mutable_start()->set_month(9);
  event.mutable_occurred()->mutable_start()->set_day(17);
  event.mutable_occurred()->set_precision(annals::v1::DATE_PRECISION_DAY);
  event.mutable_meeting()->set_type(annals::v1::Meeting::TYPE_SUMMIT);
  event.mutable_meeting()->set_level(annals::v1::Meeting::LEVEL_LEADERS);
  event.set_summary("Koizumi and Kim Jong-il meet in Pyongyang.");
  auto* source = event.add_sources();
  source->set_publisher("Ministry of Foreign Affairs of Japan");
  source->set_title("Japan-DPRK Pyongyang Declaration");
  return event;
}

// One write(2) per acknowledgement: a pipe write of at most PIPE_BUF bytes
// is atomic, so lines of different threads never interleave.
bool WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <dir> <run-tag>\n", argv[0]);
    return 2;
  }
  annals::storage::LogOptions options;
  options.sync = true;  // the point of the test
  auto log = annals::storage::OpenRocksEventLog(argv[1], options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 3;
  }
  const std::string tag = argv[2];
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Even threads append single events; odd ones batches of three.
      const int batch_size = t % 2 == 0 ? 1 : 3;
      for (int i = 0;; ++i) {
        annals::storage::AppendBatch batch;
        batch.stream = absl::StrCat("S", t % 3);
        batch.principal = "crash-child";
        for (int j = 0; j < batch_size; ++j) {
          batch.events.push_back(
              MakeEvent(absl::StrCat(tag, "-t", t, "-", i, "-", j)));
        }
        std::string acknowledged;
        for (const auto& event : batch.events) {
          absl::StrAppend(&acknowledged, event.id(), "\n");
        }
        auto result = (*log)->Append(std::move(batch));
        if (!result.ok()) {
          std::fprintf(stderr, "append: %s\n",
                       result.status().ToString().c_str());
          _exit(4);
        }
        if (!WriteAll(acknowledged)) _exit(5);
      }
    });
  }
  for (auto& thread : threads) thread.join();  // never: killed first
  return 0;
}
