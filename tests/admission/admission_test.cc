#include "services/admission/admission.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;

constexpr size_t kMiB = size_t{1} << 20;

TEST(AdmissionTest, RequestBytesAreCountedPerPrincipalAndInAll) {
  AdmissionOptions options;
  options.request_bytes_in_flight = 64 * kMiB;
  options.request_bytes_in_flight_per_principal = 32 * kMiB;
  Admission admission(options);
  auto a1 = admission.AdmitRequest("token:a", 20 * kMiB);
  ASSERT_THAT(a1, IsOk());
  EXPECT_THAT(admission.AdmitRequest("token:a", 20 * kMiB),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("token:a has 20.0 MiB")));
  auto b1 = admission.AdmitRequest("token:b", 20 * kMiB);
  ASSERT_THAT(b1, IsOk());
  auto refused = admission.AdmitRequest("token:c", 30 * kMiB);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("max_request_mb_in_flight)")));
  EXPECT_TRUE(rpc::RetryDelay(refused.status()).has_value());
  *a1 = Admission::Ticket();  // token:a's bytes answered
  EXPECT_THAT(admission.AdmitRequest("token:a", 20 * kMiB), IsOk());
}

TEST(AdmissionTest, OneRequestPassesWhileThePrincipalHasNoneInFlight) {
  AdmissionOptions options;
  options.request_bytes_in_flight = 64 * kMiB;
  options.request_bytes_in_flight_per_principal = 32 * kMiB;
  Admission admission(options);
  EXPECT_THAT(admission.AdmitRequest("token:a", 60 * kMiB), IsOk());
}

TEST(AdmissionTest, StreamsAreCountedPerPrincipalOverItsConnections) {
  AdmissionOptions options;
  options.max_streams_per_connection = 2;
  options.max_streams_per_principal = 3;
  Admission admission(options);
  auto s1 = admission.OpenStream("ipv4:10.0.0.1:1", "token:a");
  auto s2 = admission.OpenStream("ipv4:10.0.0.1:1", "token:a");
  auto s3 = admission.OpenStream("ipv4:10.0.0.1:2", "token:a");
  ASSERT_THAT(s1, IsOk());
  ASSERT_THAT(s2, IsOk());
  ASSERT_THAT(s3, IsOk());
  EXPECT_THAT(admission.OpenStream("ipv4:10.0.0.1:1", "token:b"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("this connection has 2 streams")));
  EXPECT_THAT(admission.OpenStream("ipv4:10.0.0.1:3", "token:a"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("token:a has 3 streams open")));
  EXPECT_THAT(admission.OpenStream("ipv4:10.0.0.1:3", "token:b"), IsOk());
  *s3 = Admission::Ticket();
  EXPECT_THAT(admission.OpenStream("ipv4:10.0.0.1:3", "token:a"), IsOk());
}

}  // namespace
}  // namespace annals::services
