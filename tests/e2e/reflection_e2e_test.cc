// Server reflection of the real annalsd: every service it lists can be
// described, through grpc.reflection.v1 and v1alpha alike, and
// --reflection=false serves neither. (The annalsd binary, not a test
// binary: what the server's descriptor pool holds depends on what is
// linked into it.)
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/reflection.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::IsEmpty;
using ::testing::IsSupersetOf;

const std::string kAnnalsd = ANNALSD_PATH;

class ReflectionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("reflection_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      testing::WaitExit(pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  std::shared_ptr<grpc::Channel> Start(const std::vector<std::string>& flags) {
    const testing::StartedServer server =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), flags);
    pid_ = server.pid;
    EXPECT_EQ(server.error, "");
    return grpc::CreateChannel(server.address,
                               grpc::InsecureChannelCredentials());
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST_F(ReflectionE2eTest, EveryListedServiceIsDescribedByBothVersions) {
  const std::shared_ptr<grpc::Channel> channel = Start({});
  for (const char* method :
       {testing::kReflectionV1alpha, testing::kReflectionV1}) {
    SCOPED_TRACE(method);
    const std::vector<std::string> services =
        testing::ReflectedServices(channel, method);
    EXPECT_THAT(services,
                IsSupersetOf({"annals.v1.EventLog", "annals.v1.Relationships",
                              "annals.v1.Admin", "annals.v1.Subscriptions",
                              "annals.v1.Audit", "annals.v1.ServerInfo",
                              "grpc.health.v1.Health",
                              "grpc.reflection.v1alpha.ServerReflection",
                              "grpc.reflection.v1.ServerReflection"}));
    for (const std::string& service : services) {
      const auto files = testing::FilesContainingSymbol(channel, method, service);
      ASSERT_FALSE(files.empty()) << service << " is not described";
      std::vector<std::string> declared;
      for (const auto& s : files[0].service()) {
        declared.push_back(absl::StrCat(files[0].package(), ".", s.name()));
      }
      EXPECT_THAT(declared, ::testing::Contains(service)) << files[0].name();
    }
  }
}

TEST_F(ReflectionE2eTest, TurnedOffServesNeitherVersion) {
  const std::shared_ptr<grpc::Channel> channel = Start({"--reflection=false"});
  for (const char* method :
       {testing::kReflectionV1alpha, testing::kReflectionV1}) {
    grpc::Status status;
    EXPECT_EQ(testing::AskReflection(channel, method,
                                     testing::ReflectionRequest(7, ""), &status),
              "");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
    EXPECT_THAT(testing::ReflectedServices(channel, method), IsEmpty());
  }
}

}  // namespace
}  // namespace annals
