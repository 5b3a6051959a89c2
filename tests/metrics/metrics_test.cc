// The text exposition format (services/metrics/metrics.h).
#include "services/metrics/metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::metrics {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, RendersEachKindWithHelpTypeAndSortedChildren) {
  Registry registry;
  Family<Counter>* requests =
      registry.AddCounter("x_requests_total", "Requests.", {"code"});
  requests->With({"OK"}).Add(3);
  requests->With({"INVALID_ARGUMENT"}).Add();
  registry.AddGauge("x_open", "Open things.")->With({}).Set(-2);
  Histogram& sizes = registry
                         .AddHistogram("x_size_bytes", "Sizes.", {10, 100}, 1)
                         ->With({});
  sizes.Observe(5);
  sizes.Observe(10);
  sizes.Observe(50);
  sizes.Observe(500);
  registry.AddSampled("x_head", "Sampled.", false, {"cf"},
                      [](Registry::Samples* out) {
                        out->push_back({{"events"}, 1.5});
                      });
  EXPECT_EQ(registry.Render(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{code=\"INVALID_ARGUMENT\"} 1\n"
            "x_requests_total{code=\"OK\"} 3\n"
            "# HELP x_open Open things.\n"
            "# TYPE x_open gauge\n"
            "x_open -2\n"
            "# HELP x_size_bytes Sizes.\n"
            "# TYPE x_size_bytes histogram\n"
            "x_size_bytes_bucket{le=\"10\"} 2\n"
            "x_size_bytes_bucket{le=\"100\"} 3\n"
            "x_size_bytes_bucket{le=\"+Inf\"} 4\n"
            "x_size_bytes_sum 565\n"
            "x_size_bytes_count 4\n"
            "# HELP x_head Sampled.\n"
            "# TYPE x_head gauge\n"
            "x_head{cf=\"events\"} 1.5\n");
}

TEST(RegistryTest, SecondsAreScaledAndWrittenShortest) {
  Registry registry;
  Histogram& latency = registry
                           .AddHistogram("x_seconds", "Latency.",
                                         {50'000, 1'000'000'000}, 1e-9)
                           ->With({});
  latency.ObserveDuration(absl::Milliseconds(2));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"5e-05\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_sum 0.002\n"));
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.AddCounter("x_total", "Back\\slash\nnewline.", {"v"})
      ->With({"a\"b\\c\nd"})
      .Add();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total Back\\\\slash\\nnewline.\n"));
  EXPECT_THAT(text, HasSubstr("x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(HistogramTest, LatencyBoundsIncrease) {
  const std::vector<uint64_t> bounds = LatencyBounds();
  ASSERT_FALSE(bounds.empty());
  EXPECT_EQ(bounds.front(), 50'000u);
  for (size_t i = 1; i < bounds.size(); ++i) EXPECT_LT(bounds[i - 1], bounds[i]);
}

}  // namespace
}  // namespace annals::metrics
