#include "clients/cli/backup_command.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "annals/v1/query.pb.h"
#include "clients/cli/cli_common.h"
#include "google/protobuf/struct.pb.h"
#include "services/admin/backup.h"
#include "storage/rocks_backup.h"

namespace annals {
namespace {

// "812 B", "4.0 KiB", "1.5 MiB", "2.3 GiB".
std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string FormatTime(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

// What the tree-head file of `backup` in `dir` holds: "ok" when it is the
// signed tree head of the head the backup records, else "missing",
// "unreadable" or "differs".
std::string TreeHeadState(const storage::BackupEntry& backup,
                          const std::string& path) {
  absl::StatusOr<v1::GetTreeHeadResponse> file =
      services::ReadTreeHeadFile(path);
  if (absl::IsNotFound(file.status())) return "missing";
  if (!file.ok()) return "unreadable";
  if (!backup.has_head ||
      file->tree_head().tree_size() != backup.head.position ||
      file->tree_head().root_hash() != backup.tree_head.root) {
    return "differs";
  }
  return "ok";
}

}  // namespace

int AdminBackupCommand(Client& client, const std::vector<char*>& args,
                       const std::string& to, bool json, std::ostream& out,
                       std::ostream& err) {
  if (!args.empty() || to.empty()) {
    return UsageError(err,
                      "admin backup takes --to DIR, a directory on the "
                      "server's host, and no arguments");
  }
  v1::CreateBackupRequest request;
  request.set_to(to);
  absl::StatusOr<v1::CreateBackupResponse> backup =
      client.CreateBackup(request);
  if (!backup.ok()) return ServerError(err, backup.status());
  if (json) {
    out << ToJson(*backup) << "\n";
    return 0;
  }
  out << "backup " << backup->backup_id() << " in " << to << ": head "
      << backup->head_position() << ", root "
      << absl::BytesToHexString(backup->tree_head().root_hash()) << ", "
      << backup->file_count() << " files, " << FormatBytes(backup->size_bytes())
      << " (" << FormatBytes(backup->copied_bytes()) << " copied), "
      << absl::StrFormat("%.2f s",
                         static_cast<double>(backup->duration_millis()) / 1000)
      << "\nsigned tree head: " << backup->tree_head_file() << "\n";
  return 0;
}

int AdminBackupsCommand(const std::vector<char*>& args, bool json,
                        std::ostream& out, std::ostream& err) {
  if (args.size() != 1) {
    return UsageError(err, "admin backups takes one DIR, a backup directory");
  }
  const std::string dir = args[0];
  absl::StatusOr<std::vector<storage::BackupEntry>> backups =
      storage::ListRocksBackups(dir);
  if (absl::IsNotFound(backups.status())) {
    return UsageError(err, backups.status().message());
  }
  if (!backups.ok()) return ServerError(err, backups.status());
  if (backups->empty()) {
    if (!json) out << "no backups in " << dir << "\n";
    return 0;
  }
  if (!json) {
    out << absl::StrFormat("%4s  %-20s  %10s  %5s  %10s  %s\n", "id", "created",
                           "head", "files", "size", "signed tree head");
  }
  for (const storage::BackupEntry& backup : *backups) {
    const std::string path = services::TreeHeadFilePath(dir, backup.id);
    const std::string state = TreeHeadState(backup, path);
    if (json) {
      google::protobuf::Struct object;
      auto& fields = *object.mutable_fields();
      fields["backupId"].set_number_value(backup.id);
      fields["created"].set_string_value(
          FormatTime(backup.created_unix_seconds));
      if (backup.has_head) {
        fields["headPosition"].set_string_value(
            absl::StrCat(backup.head.position));
        fields["headHash"].set_string_value(
            absl::BytesToHexString(backup.head.hash));
        fields["rootHash"].set_string_value(
            absl::BytesToHexString(backup.tree_head.root));
      }
      fields["fileCount"].set_number_value(backup.files);
      fields["sizeBytes"].set_string_value(absl::StrCat(backup.bytes));
      fields["treeHeadFile"].set_string_value(path);
      fields["treeHead"].set_string_value(state);
      out << ToJson(object) << "\n";
      continue;
    }
    out << absl::StrFormat(
        "%4d  %-20s  %10s  %5d  %10s  %s\n", backup.id,
        FormatTime(backup.created_unix_seconds),
        backup.has_head ? absl::StrCat(backup.head.position) : "-",
        backup.files, FormatBytes(backup.bytes),
        state == "ok" ? path : absl::StrCat(state, ": ", path));
  }
  return 0;
}

}  // namespace annals
