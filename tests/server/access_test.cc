// Who may call what, over the whole server with authentication on: every
// method of every annals service the server registers (found by server
// reflection) has a rule, and each refuses a call without credentials
// (UNAUTHENTICATED) and a role that does not grant it (PERMISSION_DENIED
// naming the role needed), so that a new method without a rule, or one
// whose handler does not ask, fails here. Health and reflection stay open;
// the principal recorded is the token's name; limits hold per principal.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/auth/authenticator.h"
#include "services/auth/roles.h"
#include "services/auth/token.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/reflection.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::ReflectedServices;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr auth::Role kRoles[] = {auth::Role::kReader, auth::Role::kWriter,
                                 auth::Role::kAuditor, auth::Role::kAdmin};

std::string TokenOf(auth::Role role) {
  return absl::StrCat("annals_test_", auth::RoleName(role));
}

// What a call of a method with an empty request came to: the status it
// finished with, or OK when the server answered with a message (the call
// got past the access check; it is then cancelled).
grpc::Status CallWithEmptyRequest(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& method,
                                  const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  void* tag;
  bool ok = false;
  auto next = [&] {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    return ok;
  };
  call->StartCall(&cq);
  next();
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  call->WriteLast(request, grpc::WriteOptions(), &cq);
  next();
  grpc::ByteBuffer response;
  call->Read(&response, &cq);
  const bool answered = next();
  if (answered) context.TryCancel();
  grpc::Status status;
  call->Finish(&status, &cq);
  next();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return answered ? grpc::Status::OK : status;
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/access_test_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auth::AuthOptions auth;
    auth.tokens_file = dir_ + "/tokens";
    {
      std::ofstream tokens(auth.tokens_file);
      for (auth::Role role : kRoles) {
        tokens << auth::RoleName(role) << "-1 " << auth::RoleName(role) << " "
               << auth::TokenDigestHex(TokenOf(role)) << "\n";
      }
    }
    auto authenticator = auth::Authenticator::Load(auth);
    ASSERT_THAT(authenticator, IsOk());
    authenticator_ = *std::move(authenticator);
    storage::LogOptions log_options;
    log_options.on_commit = hub_.CommitListener();
    auto log = storage::OpenRocksEventLog(dir_ + "/log", log_options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
  }

  void Start(services::ServerOptions options) {
    options.listen = "";
    options.authenticator = authenticator_.get();
    auto server = services::Server::Start(options, log_.get(), &hub_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    channel_ = server_->InProcessChannel();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  services::SubscriptionHub hub_{services::SubscriptionOptions()};
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(AccessTest, EveryMethodOfEveryServiceHasARuleAndEveryRuleAMethod) {
  Start({});
  std::vector<std::string> methods;
  int annals_services = 0;
  for (const std::string& name : ReflectedServices(channel_)) {
    if (name.rfind("grpc.", 0) == 0) continue;  // health, reflection: open
    ++annals_services;
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method =
          absl::StrCat("/", name, "/", service->method(i)->name());
      EXPECT_TRUE(auth::RoleNeeded(method).has_value())
          << method << " has no rule in services/auth/roles.cc";
      methods.push_back(method);
    }
  }
  EXPECT_EQ(annals_services, 6);
  std::vector<std::string> rules_without_method;
  for (const auto& [method, role] : auth::MethodRoles()) {
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
      rules_without_method.push_back(method);
    }
  }
  EXPECT_THAT(rules_without_method, IsEmpty());
}

TEST_F(AccessTest, EveryMethodChecksTheCallerAndItsRole) {
  Start({});
  for (const auto& [method, needed] : auth::MethodRoles()) {
    grpc::Status anonymous = CallWithEmptyRequest(channel_, method, "");
    EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method << ": " << anonymous.error_message();
    grpc::Status unknown = CallWithEmptyRequest(channel_, method, "annals_x");
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method;
    for (auth::Role role : kRoles) {
      grpc::Status status = CallWithEmptyRequest(channel_, method, TokenOf(role));
      if (auth::Grants(role, needed)) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << auth::RoleName(role);
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << " as " << auth::RoleName(role);
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << auth::RoleName(role);
        EXPECT_THAT(status.error_message(),
                    HasSubstr(absl::StrCat("needs the role ",
                                           auth::RoleName(needed))))
            << method;
      }
    }
  }
}

TEST_F(AccessTest, HealthAndReflectionStayOpen) {
  Start({});
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(grpc::health::v1::Health::NewStub(channel_)
                  ->Check(&context, request, &response)
                  .ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_THAT(ReflectedServices(channel_),
              ::testing::Contains("annals.v1.EventLog"));
}

TEST_F(AccessTest, ReflectionCanBeTurnedOff) {
  services::ServerOptions options;
  options.reflection = false;
  Start(options);
  for (const char* method :
       {testing::kReflectionV1alpha, testing::kReflectionV1}) {
    EXPECT_THAT(ReflectedServices(channel_, method), IsEmpty()) << method;
    EXPECT_EQ(CallWithEmptyRequest(channel_, method, "").error_code(),
              grpc::StatusCode::UNIMPLEMENTED)
        << method;
  }
}

TEST_F(AccessTest, RecordedPrincipalIsTheTokensNameNotTheClientsWord) {
  Start({});
  auto stub = v1::EventLog::NewStub(channel_);
  v1::AppendRequest append;
  *append.add_events() = MakeMeeting("who-wrote-this");
  v1::AppendResponse appended;
  grpc::ClientContext write;
  write.AddMetadata("authorization", "Bearer " + TokenOf(auth::Role::kWriter));
  ASSERT_TRUE(stub->Append(&write, append, &appended).ok());
  v1::ReadAllRequest read;
  v1::ReadAllResponse events;
  grpc::ClientContext read_context;
  read_context.AddMetadata("authorization",
                           "Bearer " + TokenOf(auth::Role::kReader));
  ASSERT_TRUE(stub->ReadAll(&read_context, read, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).principal(), "token:writer-1");
}

TEST_F(AccessTest, StreamsAreLimitedPerPrincipalOverAllItsConnections) {
  services::ServerOptions options;
  options.admission.max_streams_per_connection = 0;
  options.admission.max_streams_per_principal = 1;
  Start(options);
  auto subscribe = [&](auth::Role role, grpc::ClientContext* context,
                       v1::SubscribeResponse* first) {
    context->AddMetadata("authorization", "Bearer " + TokenOf(role));
    auto reader = v1::Subscriptions::NewStub(channel_)->Subscribe(
        context, v1::SubscribeRequest());
    if (!reader->Read(first)) {
      return std::make_pair(false, reader->Finish());
    }
    return std::make_pair(true, grpc::Status::OK);
  };
  grpc::ClientContext first_context, second_context, other_context;
  v1::SubscribeResponse message;
  EXPECT_TRUE(subscribe(auth::Role::kReader, &first_context, &message).first);
  auto [open, refused] =
      subscribe(auth::Role::kReader, &second_context, &message);
  EXPECT_FALSE(open);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("token:reader-1 has 1 streams open"));
  EXPECT_TRUE(subscribe(auth::Role::kWriter, &other_context, &message).first)
      << "another principal is not refused";
  first_context.TryCancel();
  other_context.TryCancel();
}

}  // namespace
}  // namespace annals
