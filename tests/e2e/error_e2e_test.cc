// Errors with much to say, through the real C++ client against the real
// annalsd: the client reads the server's code and a bounded message, never
// a transport error about metadata too large to receive.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "tests/testing/events.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::SizeIs;

const std::string kAnnalsd = ANNALSD_PATH;

class ErrorE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("error_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const testing::StartedServer started =
        testing::StartAnnalsd(kAnnalsd, dir_.string());
    pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    ClientOptions options;
    options.server = started.address;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void TearDown() override {
    client_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      testing::WaitExit(pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::unique_ptr<Client> client_;
};

TEST_F(ErrorE2eTest, AppendOfAThousandMixedDyadsGetsABoundedInvalidArgument) {
  v1::AppendRequest request;
  const char* const kTargets[] = {"PRK", "KOR", "CHN", "USA", "RUS"};
  for (int i = 0; i < 1000; ++i) {
    *request.add_events() =
        testing::MakeMeeting(absl::StrCat("mixed-", i), "JPN", kTargets[i % 5]);
  }
  const absl::StatusOr<v1::AppendResponse> response = client_->Append(request);
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument)
      << response.status();
  EXPECT_THAT(response.status().message(),
              HasSubstr("events[1]: primary dyad JPN-KOR differs"));
  EXPECT_THAT(response.status().message(), HasSubstr("(800 in all)"));
  EXPECT_THAT(response.status().message().size(), Le(rpc::kMaxMessageBytes));
  const std::vector<rpc::FieldViolation> violations =
      rpc::FieldViolations(response.status());
  ASSERT_THAT(violations, SizeIs(Le(rpc::kMaxViolations + 1)));
  EXPECT_EQ(violations.front().field, "events[1]");
  EXPECT_THAT(violations.back().description, HasSubstr("more not listed"));
  EXPECT_THAT(violations.back().description, HasSubstr("800 in all"));
}

TEST_F(ErrorE2eTest, GetOfAVeryLongIdGetsABoundedNotFound) {
  const std::string id(20000, 'x');
  const absl::StatusOr<v1::RecordedEvent> event = client_->GetEvent(id);
  ASSERT_EQ(event.status().code(), absl::StatusCode::kNotFound)
      << event.status().ToString().substr(0, 200);
  EXPECT_THAT(event.status().message(), HasSubstr("xxxxxxxx"));
  EXPECT_THAT(event.status().message(), HasSubstr("…"));
  EXPECT_THAT(event.status().message().size(), Le(rpc::kMaxMessageBytes));
}

}  // namespace
}  // namespace annals
