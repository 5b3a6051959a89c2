// Admin.CreateBackup in process and RestoreBackup (services/admin): a
// backup's signed tree head is written beside it and verifies with the
// server's key; a bad directory is a field violation on `to`; a restore
// checks the signed tree head against the backup before writing anything,
// and names the flag, the key or what differs when it refuses.
#include "services/admin/backup.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/audit/signer.h"
#include "services/relationships/projector.h"
#include "services/server/server.h"
#include "storage/event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

namespace fs = std::filesystem;
using ::annals::testing::IsOk;
using ::annals::testing::MakeMeeting;
using ::annals::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class BackupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "backup_service_test_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ANNALS_ASSERT_OK_AND_ASSIGN(
        signer_, services::TreeHeadSigner::LoadOrCreate(Path("key.pem"),
                                                        /*create=*/true));
    storage::LogOptions log_options;
    log_options.sync = false;
    log_options.projector = &projector_;
    ANNALS_ASSERT_OK_AND_ASSIGN(
        log_, storage::OpenRocksEventLog(Path("data"), log_options));
    services::ServerOptions options;
    options.listen = "";  // in-process only
    options.signer = signer_.get();
    ANNALS_ASSERT_OK_AND_ASSIGN(server_,
                                services::Server::Start(options, log_.get()));
    client_ = std::make_unique<Client>(server_->InProcessChannel(),
                                       absl::Seconds(30));
    v1::AppendRequest append;
    for (int i = 0; i < 12; ++i) {
      *append.add_events() = MakeMeeting(absl::StrCat("summit-", i));
    }
    ASSERT_THAT(client_->Append(append), IsOk());
  }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    fs::remove_all(dir_);
  }

  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }

  v1::CreateBackupResponse Backup() {
    v1::CreateBackupRequest request;
    request.set_to(Path("backups"));
    absl::StatusOr<v1::CreateBackupResponse> backup =
        client_->CreateBackup(request);
    EXPECT_THAT(backup, IsOk());
    return backup.ok() ? *backup : v1::CreateBackupResponse();
  }

  services::RestoreRequest Restore(const std::string& into) const {
    return {Path("backups"), 0, Path(into), Path("key.pem")};
  }

  // Writes `head` as backup 1's tree-head file.
  void WriteTreeHead(const v1::SignedTreeHead& head) {
    v1::GetTreeHeadResponse file;
    *file.mutable_tree_head() = head;
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(file, &json).ok());
    std::ofstream(services::TreeHeadFilePath(Path("backups"), 1),
                  std::ios::trunc)
        << json << "\n";
  }

  fs::path dir_;
  std::unique_ptr<services::TreeHeadSigner> signer_;
  services::RelationshipProjector projector_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(BackupServiceTest, WritesTheSignedTreeHeadBesideTheBackup) {
  const v1::CreateBackupResponse backup = Backup();
  EXPECT_EQ(backup.backup_id(), 1u);
  EXPECT_EQ(backup.head_position(), 12u);
  EXPECT_EQ(backup.head_hash(), log_->GetHead().hash);
  EXPECT_EQ(backup.tree_head().tree_size(), 12u);
  EXPECT_EQ(backup.tree_head().root_hash(), log_->GetTreeHead().root);
  EXPECT_THAT(
      services::VerifyTreeHead(backup.tree_head(), signer_->public_key_pem()),
      IsOk());
  EXPECT_EQ(backup.tree_head_file(), Path("backups/tree-heads/1.json"));
  EXPECT_EQ(backup.copied_bytes(), backup.size_bytes());
  EXPECT_GT(backup.file_count(), 3u);
  ANNALS_ASSERT_OK_AND_ASSIGN(
      const v1::GetTreeHeadResponse file,
      services::ReadTreeHeadFile(backup.tree_head_file()));
  EXPECT_EQ(file.tree_head().SerializeAsString(),
            backup.tree_head().SerializeAsString());

  v1::AppendRequest more;
  *more.add_events() = MakeMeeting("summit-after");
  ASSERT_THAT(client_->Append(more), IsOk());
  const v1::CreateBackupResponse second = Backup();
  EXPECT_EQ(second.backup_id(), 2u);
  EXPECT_EQ(second.head_position(), 13u);
  EXPECT_EQ(second.tree_head_file(), Path("backups/tree-heads/2.json"));
}

TEST_F(BackupServiceTest, NamesTheDirectoryItCannotUse) {
  for (const auto& [to, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "required"},
           {"backups", "must be an absolute path"},
           {Path("data/backups"), "inside the data directory"}}) {
    v1::CreateBackupRequest request;
    request.set_to(to);
    absl::StatusOr<v1::CreateBackupResponse> backup =
        client_->CreateBackup(request);
    EXPECT_THAT(backup,
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << to;
    const std::vector<rpc::FieldViolation> violations =
        rpc::FieldViolations(backup.status());
    ASSERT_EQ(violations.size(), 1u) << to;
    EXPECT_EQ(violations[0].field, "to");
    EXPECT_THAT(violations[0].description, HasSubstr(why));
  }
}

TEST_F(BackupServiceTest, RestoresAndSaysWhatMatches) {
  const v1::CreateBackupResponse backup = Backup();
  ANNALS_ASSERT_OK_AND_ASSIGN(const std::string line,
                              services::RestoreBackup(Restore("restored")));
  EXPECT_THAT(
      line,
      AllOf(HasSubstr("restored backup 1 from "), HasSubstr("head 12,"),
            HasSubstr("matches its signed tree head"),
            HasSubstr(absl::BytesToHexString(backup.tree_head().root_hash()))));
  storage::LogOptions options;
  services::RelationshipProjector projector;
  options.projector = &projector;
  ANNALS_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<storage::EventLog> restored,
      storage::OpenRocksEventLog(Path("restored"), options));
  EXPECT_EQ(restored->GetHead().hash, backup.head_hash());
  // The projections came with the events: nothing was rebuilt on open.
  EXPECT_FALSE(restored->RebuiltOnOpen().has_value());
  ANNALS_ASSERT_OK_AND_ASSIGN(const storage::RebuildReport check,
                              restored->RebuildProjections(/*repair=*/false));
  EXPECT_TRUE(check.matched());
}

TEST_F(BackupServiceTest, RefusesWhatItCannotCheck) {
  const v1::CreateBackupResponse backup = Backup();
  services::RestoreRequest request = Restore("restored");
  request.signing_key.clear();
  EXPECT_THAT(
      services::RestoreBackup(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--signing-key")));
  request = Restore("restored");
  request.from.clear();
  request.backup_id = 1;
  EXPECT_THAT(services::RestoreBackup(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--restore-backup-id needs --restore-from")));
  request = Restore("restored");
  request.backup_id = 9;
  EXPECT_THAT(services::RestoreBackup(request),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("holds no backup 9 (it holds backups 1)")));

  // Another server's key.
  ASSERT_THAT(services::TreeHeadSigner::LoadOrCreate(Path("other.pem"), true),
              IsOk());
  request = Restore("restored");
  request.signing_key = Path("other.pem");
  EXPECT_THAT(services::RestoreBackup(request),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("does not verify with the key in"),
                             HasSubstr("other.pem"))));

  // A head signed by the right key, but not the backup's.
  ANNALS_ASSERT_OK_AND_ASSIGN(
      const v1::SignedTreeHead older,
      signer_->Sign(11, std::string(32, 'x'),
                    backup.tree_head().timestamp_unix_micros()));
  WriteTreeHead(older);
  EXPECT_THAT(services::RestoreBackup(Restore("restored")),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("records head position 12"),
                             HasSubstr("has tree size 11"))));

  fs::remove(backup.tree_head_file());
  EXPECT_THAT(services::RestoreBackup(Restore("restored")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("has no usable signed tree head")));
  EXPECT_FALSE(fs::exists(Path("restored")));
}

}  // namespace
}  // namespace annals
