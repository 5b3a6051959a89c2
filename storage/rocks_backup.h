// Backups of the RocksDB event log: listing the backups of a directory and
// restoring one into a new data directory. A backup is taken by
// EventLog::Backup (storage/event_log.h; RocksEventLog::Backup in
// rocks_backup.cc says how it is made consistent) with RocksDB's
// BackupEngine, and holds the whole database at one commit: every column
// family, the WAL included.
//
// A backup directory holds BackupEngine's files: meta/ (one file per
// backup: its files, their sizes and CRC32C checksums, and annals'
// metadata, the backed-up head: storage/format.h, "Backups"), private/<id>/
// (each backup's MANIFEST, OPTIONS and WAL) and shared_checksum/ (table
// files, shared between backups: a new backup copies only the tables
// earlier ones lack). annalsd adds tree-heads/<id>.json beside them
// (services/admin/backup.h).
#ifndef ANNALS_STORAGE_ROCKS_BACKUP_H_
#define ANNALS_STORAGE_ROCKS_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/event_log.h"

namespace annals::storage {

// One backup of a backup directory.
struct BackupEntry {
  uint32_t id = 0;
  int64_t created_unix_seconds = 0;  // when it was started
  uint32_t files = 0;                // shared ones included
  uint64_t bytes = 0;
  // The backed-up log's head and tree head, as the backup's metadata
  // records them. False for a backup that annals did not take.
  bool has_head = false;
  Head head;
  TreeHead tree_head;
};

// The backups of `dir`, oldest first; empty when it holds none. NOT_FOUND
// when `dir` is not a directory; UNAVAILABLE when it cannot be read.
absl::StatusOr<std::vector<BackupEntry>> ListRocksBackups(
    const std::string& dir);

// Restores backup `id` of `dir` into `data_dir`, which must be missing or
// empty (FAILED_PRECONDITION naming what it holds otherwise; nothing is
// written), and returns its entry. In order:
//   1. every file of the backup is checked against the size and CRC32C
//      checksum recorded when it was taken: DATA_LOSS naming the first
//      damaged or missing file, and nothing is written;
//   2. the files are copied into `data_dir` (created when missing);
//   3. the restored log is opened read-only and its hash chain and Merkle
//      tree recomputed from its events: DATA_LOSS naming the first position
//      that does not check, or what differs from the head the backup's
//      metadata records (position, chain hash, Merkle root).
// After a failure in 2 or 3 what was restored is removed again, so that
// `data_dir` is left as it was. NOT_FOUND when `dir` holds no backup `id`;
// FAILED_PRECONDITION when the backup records no head (annals did not take
// it).
absl::StatusOr<BackupEntry> RestoreRocksBackup(const std::string& dir,
                                               uint32_t id,
                                               const std::string& data_dir);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_ROCKS_BACKUP_H_
