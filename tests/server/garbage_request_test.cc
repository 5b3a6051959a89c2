// Requests every method of every annals service refuses: bytes that are
// not the request message (INVALID_ARGUMENT naming the message expected),
// messages holding fields their schema does not know, and events holding
// control characters (INVALID_ARGUMENT naming the field). Nothing is
// written. The methods are taken from the services' descriptors, so a new
// method is covered without a new test.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "annals/v1/audit.grpc.pb.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"

namespace annals {
namespace {

using ::testing::HasSubstr;

// Field 1, length-delimited, with a length running past the end: no
// message parses it.
const std::string kGarbage("\x0a\xff\xff\xff", 4);
// Field 999, varint 1: every message parses it, as an unknown field.
const std::string kUnknownField999("\xb8\x3e\x01", 3);

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

class GarbageRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("garbage_request_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    hub_ = std::make_unique<services::SubscriptionHub>(
        services::SubscriptionOptions());
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.on_commit = hub_->CommitListener();
    auto log = storage::OpenRocksEventLog(dir_.string(), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = services::Server::Start(options, log_.get(), hub_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()),
        grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Calls `method` ("/annals.v1.EventLog/Append"), writing `requests` in
  // order, then half-closing; reads every answer (into `answers` when set)
  // and returns how the call ended.
  grpc::Status Call(const std::string& method,
                    const std::vector<std::string>& requests,
                    std::vector<std::string>* answers = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
        stub_->PrepareCall(&context, method, &cq);
    intptr_t next_tag = 0;
    // Runs one operation to completion; false when it failed.
    auto step = [&cq, &next_tag](auto start) {
      void* tag = reinterpret_cast<void*>(++next_tag);
      start(tag);
      void* got = nullptr;
      bool ok = false;
      EXPECT_TRUE(cq.Next(&got, &ok));
      EXPECT_EQ(got, tag);
      return ok;
    };
    step([&](void* tag) { call->StartCall(tag); });
    for (const std::string& request : requests) {
      const grpc::ByteBuffer bytes = Bytes(request);
      if (!step([&](void* tag) {
            call->Write(bytes, grpc::WriteOptions(), tag);
          })) {
        break;  // the server has ended the call
      }
    }
    step([&](void* tag) { call->WritesDone(tag); });
    grpc::ByteBuffer answer;
    while (step([&](void* tag) { call->Read(&answer, tag); })) {
      std::vector<grpc::Slice> slices;
      if (answers == nullptr || !answer.Dump(&slices).ok()) continue;
      std::string& bytes = answers->emplace_back();
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()),
                     slice.size());
      }
    }
    grpc::Status status;
    step([&](void* tag) { call->Finish(&status, tag); });
    cq.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  std::filesystem::path dir_;
  std::unique_ptr<services::SubscriptionHub> hub_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

// Every method of every annals service.
std::vector<const google::protobuf::MethodDescriptor*> AllMethods() {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  for (const char* name :
       {"annals.v1.EventLog", "annals.v1.Relationships", "annals.v1.Admin",
        "annals.v1.Subscriptions", "annals.v1.Audit", "annals.v1.ServerInfo"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    EXPECT_NE(service, nullptr) << name;
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      methods.push_back(service->method(i));
    }
  }
  return methods;
}

// "/annals.v1.EventLog/Append".
std::string PathOf(const google::protobuf::MethodDescriptor* method) {
  return absl::StrCat("/", method->service()->full_name(), "/",
                      method->name());
}

TEST_F(GarbageRequestTest, EveryMethodAnswersInvalidArgumentNamingItsRequest) {
  const auto methods = AllMethods();
  EXPECT_EQ(methods.size(), 5u + 3 + 2 + 2 + 5 + 1);
  for (const google::protobuf::MethodDescriptor* method : methods) {
    const grpc::Status status = Call(PathOf(method), {kGarbage});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << PathOf(method) << ": " << status.error_message();
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat("could not be parsed as ",
                                       method->input_type()->full_name())))
        << PathOf(method);
  }
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(GarbageRequestTest, EveryMethodRefusesAnUnknownField) {
  for (const google::protobuf::MethodDescriptor* method : AllMethods()) {
    if (method->name() == "AppendSession") continue;  // answered per request
    const grpc::Status status = Call(PathOf(method), {kUnknownField999});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << PathOf(method) << ": " << status.error_message();
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat(method->input_type()->full_name(),
                                       ": unknown field 999")))
        << PathOf(method);
  }
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(GarbageRequestTest, AppendRefusesUnknownFieldsAndControlsInEvents) {
  v1::AppendRequest request;
  *request.add_events() = testing::MakeMeeting("unknown");
  request.mutable_events(0)
      ->mutable_meeting()
      ->GetReflection()
      ->MutableUnknownFields(request.mutable_events(0)->mutable_meeting())
      ->AddVarint(999, 1);
  *request.add_events() = testing::MakeMeeting("escape");
  request.mutable_events(1)->set_summary("red \x1b[31m text");
  const grpc::Status status =
      Call("/annals.v1.EventLog/Append", {request.SerializeAsString()});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("events[0].meeting: unknown field 999"));
  EXPECT_THAT(status.error_message(),
              HasSubstr("events[1].summary: control character U+001B"));
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(GarbageRequestTest, AppendSessionAnswersAnUnknownFieldInItsAck) {
  v1::AppendSessionRequest request;
  request.set_correlation_id(7);
  *request.mutable_append()->add_events() = testing::MakeMeeting("unknown");
  v1::Meeting* meeting =
      request.mutable_append()->mutable_events(0)->mutable_meeting();
  meeting->GetReflection()->MutableUnknownFields(meeting)->AddVarint(999, 1);
  std::vector<std::string> answers;
  const grpc::Status status = Call("/annals.v1.EventLog/AppendSession",
                                   {request.SerializeAsString()}, &answers);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 1u);
  v1::AppendSessionResponse response;
  ASSERT_TRUE(response.ParseFromString(answers[0]));
  ASSERT_EQ(response.acks_size(), 1);
  EXPECT_EQ(response.acks(0).correlation_id(), 7u);
  EXPECT_EQ(response.acks(0).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(response.acks(0).error().message(),
              HasSubstr("append.events[0].meeting: unknown field 999"));
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(GarbageRequestTest, AppendSessionEndsAtGarbageAndWritesNothingAfterIt) {
  auto request = [](const std::string& id, uint64_t correlation_id) {
    v1::AppendSessionRequest request;
    request.set_correlation_id(correlation_id);
    *request.mutable_append()->add_events() = testing::MakeMeeting(id);
    return request.SerializeAsString();
  };
  const grpc::Status status =
      Call("/annals.v1.EventLog/AppendSession",
           {request("before", 1), kGarbage, request("after", 2)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(),
              HasSubstr("could not be parsed as annals.v1.AppendSessionRequest"));
  EXPECT_TRUE(log_->GetEvent("before").ok());
  EXPECT_FALSE(log_->GetEvent("after").ok()) << "written after the garbage";
  EXPECT_EQ(log_->GetHead().position, 1u);
}

}  // namespace
}  // namespace annals
