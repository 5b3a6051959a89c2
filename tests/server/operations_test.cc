// What operators see of the whole server, in process: slow unary calls in
// the log (method, principal, duration, status; streams left out), and
// ServerInfo.GetServerInfo.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/server_info.grpc.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "log/log.h"
#include "services/auth/authenticator.h"
#include "services/auth/token.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kReaderToken[] = "annals_test_reader";

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/operations_test_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.on_commit = hub_.CommitListener();
    auto log = storage::OpenRocksEventLog(dir_ + "/log", log_options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    log::SetOutput([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    log::SetOutput(nullptr);
    std::filesystem::remove_all(dir_);
  }

  void Start(services::ServerOptions options) {
    options.listen = "";
    auto server = services::Server::Start(options, log_.get(), &hub_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  // Authentication on, with one reader token.
  void StartWithTokens(services::ServerOptions options) {
    auth::AuthOptions auth;
    auth.tokens_file = dir_ + "/tokens";
    std::ofstream(auth.tokens_file)
        << "dashboard reader " << auth::TokenDigestHex(kReaderToken) << "\n";
    auto authenticator = auth::Authenticator::Load(auth);
    ASSERT_THAT(authenticator, IsOk());
    authenticator_ = *std::move(authenticator);
    options.authenticator = authenticator_.get();
    Start(options);
  }

  // The lines logged so far of `event`.
  std::vector<std::string> Lines(absl::string_view event) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> found;
    for (const std::string& line : lines_) {
      if (absl::StrContains(line, absl::StrCat(" event=", event, " "))) {
        found.push_back(line);
      }
    }
    return found;
  }

  absl::StatusOr<v1::GetServerInfoResponse> GetServerInfo(
      const std::string& token = "") {
    auto stub = v1::ServerInfo::NewStub(server_->InProcessChannel());
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::GetServerInfoResponse info;
    grpc::Status status =
        stub->GetServerInfo(&context, v1::GetServerInfoRequest(), &info);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return info;
  }

  std::string dir_;
  services::SubscriptionHub hub_{services::SubscriptionOptions()};
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(OperationsTest, EveryUnaryCallIsLoggedAtThresholdZeroStreamsNever) {
  services::ServerOptions options;
  options.slow_request = absl::ZeroDuration();
  Start(options);
  Client client(server_->InProcessChannel(), absl::Seconds(10));
  v1::AppendRequest append;
  *append.add_events() = MakeMeeting("logged", "JPN", "PRK");
  ASSERT_THAT(client.Append(append), IsOk());
  EXPECT_FALSE(client.GetEvent("missing").ok());
  ASSERT_THAT(client.Subscribe(v1::SubscribeRequest(),
                               [](const v1::SubscribeResponse&) {
                                 return false;  // one message, then cancel
                               }),
              IsOk());

  const std::vector<std::string> slow = Lines("slow_request");
  ASSERT_EQ(slow.size(), 2u) << absl::StrJoin(slow, "");
  EXPECT_THAT(slow[0],
              AllOf(HasSubstr(" WARN event=slow_request "
                              "method=/annals.v1.EventLog/Append "
                              "principal=anonymous@"),
                    HasSubstr(" duration_ms="), HasSubstr(" status=OK\n")));
  EXPECT_THAT(slow[1], AllOf(HasSubstr("method=/annals.v1.EventLog/GetEvent"),
                             HasSubstr(" status=NOT_FOUND\n")));
}

TEST_F(OperationsTest, FastCallsAreNotLoggedAndNoneWhenTurnedOff) {
  services::ServerOptions options;
  options.slow_request = absl::Hours(1);
  Start(options);
  EXPECT_THAT(GetServerInfo(), IsOk());
  server_->Shutdown(absl::Seconds(1));
  server_.reset();
  options.slow_request = std::nullopt;
  Start(options);
  EXPECT_THAT(GetServerInfo(), IsOk());
  EXPECT_THAT(Lines("slow_request"), IsEmpty());
}

TEST_F(OperationsTest, SlowCallsNameTheTokensPrincipalOrSayUnauthenticated) {
  services::ServerOptions options;
  options.slow_request = absl::ZeroDuration();
  StartWithTokens(options);
  EXPECT_THAT(GetServerInfo(kReaderToken), IsOk());
  EXPECT_FALSE(GetServerInfo("annals_unknown").ok());
  const std::vector<std::string> slow = Lines("slow_request");
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_THAT(slow[0], AllOf(HasSubstr("principal=token:dashboard "),
                             HasSubstr(" status=OK\n")));
  EXPECT_THAT(slow[1], AllOf(HasSubstr("principal=unauthenticated@"),
                             HasSubstr(" status=UNAUTHENTICATED\n")));
  for (const std::string& line : slow) {
    EXPECT_THAT(line, Not(HasSubstr("annals_unknown"))) << "no token logged";
  }
}

TEST_F(OperationsTest, ServerInfoSaysVersionStartHeadAndDurability) {
  services::ServerOptions options;
  options.facts.started_at = absl::FromUnixSeconds(1796492401);
  options.facts.durability = v1::GetServerInfoResponse::DURABILITY_BUFFERED;
  options.facts.projection_version = "relationships/9";
  StartWithTokens(options);
  ASSERT_THAT(
      log_->Append(storage::AppendBatch{"JPN-PRK",
                                        storage::ExpectedVersion::Any(),
                                        {MakeMeeting("one", "JPN", "PRK")},
                                        "test"}),
      IsOk());

  absl::StatusOr<v1::GetServerInfoResponse> info = GetServerInfo(kReaderToken);
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->version(), ANNALS_VERSION);
  EXPECT_FALSE(info->commit().empty());
  EXPECT_EQ(
      google::protobuf::util::TimeUtil::TimestampToSeconds(info->started_at()),
      1796492401);
  EXPECT_EQ(info->head_position(), 1u);
  EXPECT_EQ(info->durability(), v1::GetServerInfoResponse::DURABILITY_BUFFERED);
  EXPECT_EQ(info->projection_version(), "relationships/9");
  EXPECT_TRUE(info->writable());
  EXPECT_EQ(GetServerInfo().status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace annals
