#include "clients/cli/info_command.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace annals {
namespace {

TEST(InfoCommandTest, PrintsOneFieldPerLineWithTheUptime) {
  const absl::Time started = absl::FromCivil(
      absl::CivilSecond(2026, 12, 5, 17, 40, 1), absl::UTCTimeZone());
  v1::GetServerInfoResponse info;
  info.set_version("0.1.0");
  info.set_commit("1a2b3c4d5e6f");
  *info.mutable_started_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(started) + 250000);
  info.set_head_position(89);
  info.set_durability(v1::GetServerInfoResponse::DURABILITY_BUFFERED);
  info.set_projection_version("relationships/9");
  info.set_writable(true);
  EXPECT_EQ(FormatServerInfo(info, started + absl::Hours(3) +
                                       absl::Minutes(12) + absl::Seconds(5)),
            "annalsd 0.1.0 (commit 1a2b3c4d5e6f)\n"
            "started      2026-12-05T17:40:01Z (up 3h12m4s)\n"
            "head         position 89\n"
            "durability   buffered\n"
            "projections  relationships/9\n"
            "writable     yes\n");
  info.set_writable(false);
  info.set_durability(v1::GetServerInfoResponse::DURABILITY_SYNC);
  const std::string text = FormatServerInfo(info, started);
  EXPECT_NE(text.find("durability   sync\n"), std::string::npos) << text;
  EXPECT_NE(text.find("writable     no (storage has failed)\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace annals
