#include "clients/bench/cpu_meter.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "clients/bench/process_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
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
                                   "cpu_us\\.self=[0-9.]+ cpu_us\\.gone=\\?"));
  // 50 ms over 1000 units: 50 µs each, at least.
  const double client = std::stod(report.substr(report.find('=') + 1));
  EXPECT_GE(client, 45);
  EXPECT_THAT(meter->Report(0), StartsWith(" cpu_us.client="));
}

}  // namespace
}  // namespace annals::bench
