// In-process gRPC tests of the Audit service: signed tree heads verify with
// the published key, proofs verify against them, bad sizes are
// INVALID_ARGUMENT naming the field; and GetEvent shows corrections.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/audit/signer.h"
#include "services/server/server.h"
#include "storage/event_log.h"
#include "storage/merkle.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::StatusIs;
using ::testing::ElementsAre;

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const rpc::FieldViolation& v : rpc::FieldViolations(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("audit_service_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    storage::LogOptions log_options;
    log_options.sync = false;
    auto log = storage::OpenRocksEventLog(dir_.string(), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions options;
    options.listen = "";
    auto server = services::Server::Start(options, log_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(server_->InProcessChannel(),
                                       absl::Seconds(10));
    auto key = client_->GetPublicKey();
    ASSERT_THAT(key, IsOk());
    public_key_ = key->public_key_pem();
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  void AppendMeetings(int count) {
    for (int i = 0; i < count; ++i) {
      v1::AppendRequest append;
      *append.add_events() = MakeMeeting(absl::StrCat("m", next_++));
      ASSERT_THAT(client_->Append(append), IsOk());
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
  std::string public_key_;
  int next_ = 0;
};

TEST_F(AuditServiceTest, TreeHeadIsSignedWithThePublishedKey) {
  AppendMeetings(3);
  auto head = client_->GetTreeHead();
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ(head->tree_size(), 3u);
  EXPECT_EQ(head->root_hash(), log_->GetTreeHead().root);
  EXPECT_THAT(services::VerifyTreeHead(*head, public_key_), IsOk());
  EXPECT_EQ(head->key_id(), *services::KeyIdOfPublicKey(public_key_));

  v1::SignedTreeHead forged = *head;
  forged.set_tree_size(2);
  EXPECT_THAT(services::VerifyTreeHead(forged, public_key_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto other = services::TreeHeadSigner::Generate();
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(services::VerifyTreeHead(*head, (*other)->public_key_pem()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AuditServiceTest, ATreeHeadIsSignedAtItsLastEventsRecordedTime) {
  // Replicas sharing a key sign the same tree with the same bytes, and so
  // does one server asked twice.
  auto empty = client_->GetTreeHead();
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(empty->timestamp_unix_micros(), 0u);
  AppendMeetings(2);
  auto head = client_->GetTreeHead();
  ASSERT_THAT(head, IsOk());
  absl::SleepFor(absl::Milliseconds(2));
  auto again = client_->GetTreeHead();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(head->SerializeAsString(), again->SerializeAsString());
  absl::StatusOr<v1::RecordedEvent> last = log_->GetEventAt(2);
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(head->timestamp_unix_micros(),
            static_cast<uint64_t>(last->recorded_at().seconds()) * 1000000 +
                static_cast<uint64_t>(last->recorded_at().nanos()) / 1000);
}

TEST_F(AuditServiceTest, InclusionAndConsistencyProofsVerifyAgainstSignedHeads) {
  AppendMeetings(5);
  auto old_head = client_->GetTreeHead();
  ASSERT_THAT(old_head, IsOk());
  AppendMeetings(6);
  auto new_head = client_->GetTreeHead();
  ASSERT_THAT(new_head, IsOk());
  ASSERT_EQ(new_head->tree_size(), 11u);
  for (uint64_t position = 1; position <= 11; ++position) {
    auto proof = client_->ProveInclusion(position, 11);
    ASSERT_THAT(proof, IsOk());
    v1::RecordedEvent event;
    ASSERT_TRUE(event.ParseFromString(proof->stored()));
    EXPECT_EQ(event.position(), position);
    std::vector<std::string> path(proof->audit_path().begin(),
                                  proof->audit_path().end());
    EXPECT_THAT(storage::merkle::VerifyInclusion(
                    storage::merkle::LeafHash(proof->stored()), position - 1,
                    11, path, new_head->root_hash()),
                IsOk());
  }
  auto consistency = client_->ProveConsistency(5, 11);
  ASSERT_THAT(consistency, IsOk());
  std::vector<std::string> proof(consistency->proof().begin(),
                                 consistency->proof().end());
  EXPECT_THAT(storage::merkle::VerifyConsistency(5, 11, old_head->root_hash(),
                                                 new_head->root_hash(), proof),
              IsOk());
}

TEST_F(AuditServiceTest, BadSizesNameTheField) {
  AppendMeetings(4);
  auto zero = client_->ProveInclusion(0, 0);
  EXPECT_THAT(zero, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(zero.status()), ElementsAre("tree_size", "position"));
  auto beyond = client_->ProveInclusion(1, 5);
  EXPECT_THAT(Fields(beyond.status()), ElementsAre("tree_size"));
  auto above = client_->ProveInclusion(4, 3);
  EXPECT_THAT(Fields(above.status()), ElementsAre("position"));
  auto reversed = client_->ProveConsistency(4, 3);
  EXPECT_THAT(reversed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(reversed.status()), ElementsAre("old_size"));
  EXPECT_THAT(Fields(client_->ProveConsistency(0, 3).status()),
              ElementsAre("old_size"));
  EXPECT_THAT(Fields(client_->ProveConsistency(1, 9).status()),
              ElementsAre("new_size"));
  EXPECT_THAT(Fields(client_->ReadStored(0, 10).status()),
              ElementsAre("from_position"));
  EXPECT_THAT(Fields(client_->ReadStored(1, 5000).status()),
              ElementsAre("max_count"));
}

TEST_F(AuditServiceTest, ReadStoredReturnsTheHashedBytes) {
  AppendMeetings(3);
  auto page = client_->ReadStored(2, 10);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->events_size(), 2);
  EXPECT_EQ(page->events(0).position(), 2u);
  EXPECT_EQ(page->head(), 3u);
  auto beyond = client_->ReadStored(4, 10);
  ASSERT_THAT(beyond, IsOk());
  EXPECT_EQ(beyond->events_size(), 0);
}

TEST_F(AuditServiceTest, GetEventShowsItsCorrections) {
  AppendMeetings(2);
  v1::AppendRequest amend;
  v1::Event fix = MakeMeeting("fix-m0");
  fix.mutable_correction()->set_corrects_event_id("m0");
  fix.mutable_correction()->set_action(v1::Correction::ACTION_RETRACT);
  fix.mutable_correction()->set_reason("recorded in error");
  *amend.add_events() = fix;
  auto appended = client_->Append(amend);
  ASSERT_THAT(appended, IsOk());
  auto got = client_->GetEventWithCorrections("m0");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->event().event().id(), "m0");  // still readable, unchanged
  ASSERT_EQ(got->corrections_size(), 1);
  EXPECT_EQ(got->corrections(0).event().id(), "fix-m0");
  EXPECT_EQ(got->corrections(0).position(), 3u);
  auto plain = client_->GetEventWithCorrections("m1");
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(plain->corrections_size(), 0);
}

}  // namespace
}  // namespace annals
