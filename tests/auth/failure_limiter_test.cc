#include "services/auth/failure_limiter.h"

#include "gtest/gtest.h"

namespace annals::auth {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

TEST(FailureLimiterTest, AddressIsRefusedAfterItsBurstUntilItEarnsAnAttempt) {
  FailureLimiter limiter(6);  // one attempt earned every 10 s
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(limiter.Refused("ipv4:10.0.0.1", kStart).has_value()) << i;
    limiter.Failed("ipv4:10.0.0.1", kStart);
  }
  std::optional<absl::Duration> wait = limiter.Refused("ipv4:10.0.0.1", kStart);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, absl::Seconds(10));
  EXPECT_FALSE(limiter.Refused("ipv4:10.0.0.2", kStart).has_value())
      << "another address is not refused";
  EXPECT_TRUE(limiter.Refused("ipv4:10.0.0.1", kStart + absl::Seconds(9)));
  EXPECT_FALSE(limiter.Refused("ipv4:10.0.0.1", kStart + absl::Seconds(10)));
  limiter.Failed("ipv4:10.0.0.1", kStart + absl::Seconds(10));
  EXPECT_TRUE(limiter.Refused("ipv4:10.0.0.1", kStart + absl::Seconds(10)));
}

TEST(FailureLimiterTest, ZeroMeansNoLimit) {
  FailureLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) limiter.Failed("ipv4:10.0.0.1", kStart);
  EXPECT_FALSE(limiter.Refused("ipv4:10.0.0.1", kStart).has_value());
}

}  // namespace
}  // namespace annals::auth
