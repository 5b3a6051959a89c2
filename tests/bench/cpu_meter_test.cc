#include "clients/bench/cpu_meter.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/bench/process_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

TEST(CpuMeterTest, ParsesLabelsAndPids) {
  EXPECT_TRUE(CpuMeter::Parse("").ok());
  EXPECT_TRUE(CpuMeter::Parse("annalsd1=12,nats-1=34,x_y=5").ok());
  for (const char* bad : {"annalsd", "=12", "a=", "a=0", "a=-3", "a=x",
                          "client=12", "a b=1", "a.b=1", "a=1,,b=2"}) {
    absl::StatusOr<CpuMeter> meter = CpuMeter::Parse(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(meter.status())) << bad;
    EXPECT_THAT(std::string(meter.status().message()), HasSubstr("LABEL=PID"))
        << bad;
  }
}

TEST(CpuMeterTest, ReportsMicrosecondsPerUnitInTheOrderGiven) {
  absl::StatusOr<CpuMeter> meter =
      CpuMeter::Parse(absl::StrCat("self=", getpid(), ",gone=999999999"));
  ASSERT_TRUE(meter.ok()) << meter.status();
  meter->Start();
  // 50 ms of CPU at least, in this process (however busy the machine).
  const double until = SelfCpuSeconds() + 0.05;
  volatile uint64_t spin = 0;
  while (SelfCpuSeconds() < until) spin = spin + 1;
  const std::string report = meter->Report(1000);
  EXPECT_THAT(report, MatchesRegex(" cpu_us\\.client=[0-9.]+ "
                                   "cpu_us\\.self=[0-9.]+ cpu_us\\.gone=\\? "
                                   "cpu_threads\\.self=[^ ]+"));
  // 50 ms over 1000 units: 50 µs each, at least.
  const double client = std::stod(report.substr(report.find('=') + 1));
  EXPECT_GE(client, 45);
  EXPECT_THAT(meter->Report(0), StartsWith(" cpu_us.client="));
}

// Names the calling thread "rocksdb:spin" and spends 50 ms of its CPU.
void SpinAsRocksdbSpin() {
  pthread_setname_np(pthread_self(), "rocksdb:spin");
  const double until = ThreadCpuSeconds(pthread_self()) + 0.05;
  volatile uint64_t spin = 0;
  while (ThreadCpuSeconds(pthread_self()) < until) spin = spin + 1;
}

TEST(CpuMeterTest, ReportsEachThreadNameOfAProcess) {
  absl::StatusOr<CpuMeter> meter =
      CpuMeter::Parse(absl::StrCat("self=", getpid()));
  ASSERT_TRUE(meter.ok()) << meter.status();
  meter->Start();
  std::thread spinner(SpinAsRocksdbSpin);
  spinner.join();
  // Ended since Start: its CPU is gone from the threads' report.
  EXPECT_THAT(meter->Report(1000), Not(HasSubstr("rocksdb_spin")));

  meter->Start();
  std::atomic<bool> stop = false;
  std::atomic<bool> spun = false;
  std::thread running([&] {
    SpinAsRocksdbSpin();
    spun = true;
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!spun) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string report = meter->Report(1000);
  stop = true;
  running.join();
  // 50 ms over 1000 units: 50 µs, less a clock tick (10 ms: 10 µs).
  const size_t at = report.find(" cpu_threads.self=");
  ASSERT_NE(at, std::string::npos) << report;
  const size_t name = report.find("rocksdb_spin:", at);
  ASSERT_NE(name, std::string::npos) << report;
  EXPECT_GE(std::stod(report.substr(name + strlen("rocksdb_spin:"))), 39)
      << report;
}

}  // namespace
}  // namespace annals::bench
