// Backups with their signed tree heads: taking one for Admin.CreateBackup,
// the tree-head file written beside it, and restoring one when annalsd
// starts with --restore-from.
//
// A backup directory (storage/rocks_backup.h) holds, beside RocksDB's
// files, tree-heads/<backup id>.json: the signed tree head of the
// backed-up log, an annals.v1.GetTreeHeadResponse in canonical JSON (what
// Audit.GetTreeHead answers), signed by the server's key when the backup
// was taken. The chain hash of the backed-up head, which a tree head does
// not carry, is in the backup's own metadata with the head position and
// Merkle root (storage/format.h, "Backups"). A restore checks the one
// against the other and the restored log against both.
#ifndef ANNALS_SERVICES_ADMIN_BACKUP_H_
#define ANNALS_SERVICES_ADMIN_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "annals/v1/audit.pb.h"
#include "annals/v1/query.pb.h"
#include "services/audit/signer.h"
#include "storage/event_log.h"

namespace annals::services {

// `dir`/tree-heads/<id>.json.
std::string TreeHeadFilePath(const std::string& dir, uint32_t id);

// The signed tree head in `path`. NOT_FOUND when there is no such file,
// DATA_LOSS naming the file when it is not a GetTreeHeadResponse in JSON.
absl::StatusOr<v1::GetTreeHeadResponse> ReadTreeHeadFile(
    const std::string& path);

// Takes a backup of `log` into `request.to` (storage::EventLog::Backup),
// signs the backed-up tree head with `signer` and writes it to its
// tree-head file. INVALID_ARGUMENT with a field violation on `to` when the
// directory cannot be used; UNAVAILABLE when storage fails or the
// tree-head file cannot be written (the message then names the backup,
// which cannot be restored without it). Waits while another backup of
// `log` runs.
absl::StatusOr<v1::CreateBackupResponse> TakeBackup(
    storage::EventLog* log, const TreeHeadSigner& signer,
    const v1::CreateBackupRequest& request);

// What annalsd is asked to restore, from its flags.
struct RestoreRequest {
  std::string from;         // --restore-from: a backup directory, or ""
  uint32_t backup_id = 0;   // --restore-backup-id: 0 for the newest
  std::string data_dir;     // --data-dir: restored into; missing or empty
  std::string signing_key;  // --signing-key: the key that signed the heads
};

// Restores a backup before annalsd opens its data directory. With no
// `from`, does nothing and returns "". Otherwise, before anything is
// written: the backup's tree-head file must hold a tree head signed by
// the key in `signing_key` whose size and root are the head position and
// root the backup records; then storage::RestoreRocksBackup verifies every
// file's checksum, restores, and recomputes the restored log's chain and
// Merkle root from its events, which must equal the recorded head,
// chain hash and root. Returns the line to log: "restored backup 3 from
// DIR: head 1234, chain hash …, root … matches its signed tree head …".
// INVALID_ARGUMENT naming the flag when the flags do not go together
// (--restore-backup-id without --restore-from; --restore-from without
// --signing-key: a new data directory holds no key); FAILED_PRECONDITION
// when the tree head's signature does not verify; DATA_LOSS naming what
// differs; the errors of storage::RestoreRocksBackup otherwise.
absl::StatusOr<std::string> RestoreBackup(const RestoreRequest& request);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_ADMIN_BACKUP_H_
