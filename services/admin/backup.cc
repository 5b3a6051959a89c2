#include "services/admin/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "proto/rpc_status.h"
#include "storage/rocks_backup.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

namespace fs = std::filesystem;

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// Writes `contents` to `path` so that a crash leaves either the whole file
// or none: a temporary file, synced, renamed over `path`, and the
// directory synced. Creates the directory when missing.
absl::Status WriteFileDurably(const std::string& path,
                              const std::string& contents) {
  const fs::path dir = fs::path(path).parent_path();
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir.string(), ": ", error.message()));
  }
  const std::string tmp = path + ".tmp";
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", tmp);
  const bool written = write(fd, contents.data(), contents.size()) ==
                           static_cast<ssize_t>(contents.size()) &&
                       fsync(fd) == 0;
  if (close(fd) != 0 || !written) return Errno("write", tmp);
  if (rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Errno("open", dir.string());
  const bool synced = fsync(dir_fd) == 0;
  close(dir_fd);
  return synced ? absl::OkStatus() : Errno("sync", dir.string());
}

std::string FormatMicros(uint64_t micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixMicros(static_cast<int64_t>(micros)),
                          absl::UTCTimeZone());
}

}  // namespace

std::string TreeHeadFilePath(const std::string& dir, uint32_t id) {
  return (fs::path(dir) / "tree-heads" / absl::StrCat(id, ".json")).string();
}

absl::StatusOr<v1::GetTreeHeadResponse> ReadTreeHeadFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      return absl::NotFoundError(absl::StrCat("there is no ", path));
    }
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  v1::GetTreeHeadResponse head;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &head);
  if (!parsed.ok() || !head.has_tree_head()) {
    return absl::DataLossError(absl::StrCat(
        path,
        " is not a signed tree head (annals.v1.GetTreeHeadResponse in "
        "JSON)",
        parsed.ok() ? "" : absl::StrCat(": ", std::string(parsed.message()))));
  }
  return head;
}

absl::StatusOr<v1::CreateBackupResponse> TakeBackup(
    storage::EventLog* log, const TreeHeadSigner& signer,
    const v1::CreateBackupRequest& request) {
  const absl::Time start = absl::Now();
  absl::StatusOr<storage::BackupReport> report = log->Backup(request.to());
  if (absl::IsInvalidArgument(report.status())) {
    return rpc::InvalidArgument(
        {{"to", std::string(report.status().message())}});
  }
  if (!report.ok()) return report.status();
  v1::GetTreeHeadResponse head;
  ASSIGN_OR_RETURN(const uint64_t at,
                   TreeHeadTime(*log, report->tree_head.size));
  ASSIGN_OR_RETURN(*head.mutable_tree_head(),
                   signer.Sign(report->tree_head.size, report->tree_head.root,
                               at));
  const std::string path = TreeHeadFilePath(request.to(), report->id);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(head, &json);
  absl::Status written = WriteFileDurably(path, json + "\n");
  if (!written.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "backup ", report->id, " was taken in ", request.to(),
        " but its signed tree head was not written (", written.message(),
        "); it cannot be restored without one: take another backup"));
  }
  v1::CreateBackupResponse response;
  response.set_backup_id(report->id);
  response.set_head_position(report->head.position);
  response.set_head_hash(report->head.hash);
  *response.mutable_tree_head() = std::move(*head.mutable_tree_head());
  response.set_tree_head_file(path);
  response.set_file_count(report->files);
  response.set_size_bytes(report->bytes);
  response.set_copied_bytes(report->copied_bytes);
  response.set_duration_millis(
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::Now() - start)));
  return response;
}

absl::StatusOr<std::string> RestoreBackup(const RestoreRequest& request) {
  if (request.from.empty()) {
    if (request.backup_id != 0) {
      return absl::InvalidArgumentError(
          "--restore-backup-id needs --restore-from, the backup directory");
    }
    return std::string();
  }
  if (request.signing_key.empty()) {
    return absl::InvalidArgumentError(
        "--restore-from needs --signing-key: the key that signed the "
        "backup's tree heads (the signing_key.pem of the data directory "
        "that was backed up), since the new data directory holds none");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHeadSigner> key,
                   TreeHeadSigner::LoadOrCreate(request.signing_key,
                                                /*create=*/false));
  ASSIGN_OR_RETURN(std::vector<storage::BackupEntry> backups,
                   storage::ListRocksBackups(request.from));
  if (backups.empty()) {
    return absl::NotFoundError(
        absl::StrCat("there are no backups in ", request.from));
  }
  const storage::BackupEntry* chosen = &backups.back();
  if (request.backup_id != 0) {
    chosen = nullptr;
    std::vector<uint32_t> ids;
    for (const storage::BackupEntry& backup : backups) {
      ids.push_back(backup.id);
      if (backup.id == request.backup_id) chosen = &backup;
    }
    if (chosen == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(request.from, " holds no backup ", request.backup_id,
                       " (it holds backups ", absl::StrJoin(ids, ", "), ")"));
    }
  }
  const uint32_t id = chosen->id;
  const std::string path = TreeHeadFilePath(request.from, id);
  absl::StatusOr<v1::GetTreeHeadResponse> file = ReadTreeHeadFile(path);
  if (!file.ok()) {
    return absl::Status(
        file.status().code(),
        absl::StrCat("backup ", id, " has no usable signed tree head: ",
                     file.status().message()));
  }
  const v1::SignedTreeHead& signed_head = file->tree_head();
  absl::Status verified = VerifyTreeHead(signed_head, key->public_key_pem());
  if (!verified.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the signed tree head of backup ", id, " (", path,
                     ") does not verify with the key in ", request.signing_key,
                     ": ", verified.message()));
  }
  if (chosen->has_head && (signed_head.tree_size() != chosen->head.position ||
                           signed_head.root_hash() != chosen->tree_head.root)) {
    return absl::DataLossError(absl::StrCat(
        "backup ", id, " records head position ", chosen->head.position,
        " and root ", Hex(chosen->tree_head.root),
        ", but its signed tree head (", path, ") has tree size ",
        signed_head.tree_size(), " and root ", Hex(signed_head.root_hash())));
  }
  ASSIGN_OR_RETURN(
      const storage::BackupEntry restored,
      storage::RestoreRocksBackup(request.from, id, request.data_dir));
  return absl::StrCat(
      "restored backup ", id, " from ", request.from, " into ",
      request.data_dir, ": head ", restored.head.position, ", chain hash ",
      Hex(restored.head.hash), ", root ", Hex(restored.tree_head.root),
      " recomputed from its events, matches its signed tree head (", path,
      ", signed at ", FormatMicros(signed_head.timestamp_unix_micros()), ")");
}

}  // namespace annals::services
