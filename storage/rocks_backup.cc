// Backups of the RocksDB event log with RocksDB's BackupEngine
// (storage/rocks_backup.h): RocksEventLog::Backup takes one while appends
// go on, ListRocksBackups lists a directory's, RestoreRocksBackup verifies
// and restores one.
//
// How a backup holds one commit of every column family, and why the head
// recorded with it is exactly the head of what it holds:
//   - Every commit is one WriteBatch, which RocksDB writes as one WAL record
//     for all column families. A backup that includes the live WAL
//     (BackupEngineOptions::backup_log_files) holds the table files RocksDB
//     lists at one moment and the WAL up to its length at that moment
//     (GetLiveFilesStorageInfo); a restored database replays that WAL, so
//     every family is at the same commit. Tables alone would not do:
//     without atomic_flush RocksDB flushes the families one after another
//     while commits go on, and one family's tables could then hold a commit
//     another's do not. The families are flushed first all the same, so
//     that the WAL each backup copies (not shared between backups) is
//     short.
//   - Which commit: the writer is held between two commits from just
//     before the backup starts until RocksDB has listed those files
//     (HoldWriter: an exclusive writer task, as a projection repair is,
//     which starts once every earlier commit is durable and published). The
//     head read while it is held is the head of exactly what the backup
//     copies, and goes into the backup's metadata (format.h, "Backups").
//     The hold ends as soon as GetLiveFilesStorageInfo returns, through a
//     rocksdb::StackableDB over the log's database (ReleaseAfterListing),
//     before any file is copied: appends queue meanwhile, for milliseconds,
//     and none fails. Were RocksDB to list the files some other way, the
//     hold would last until the backup ends: slower, never inconsistent.
//   - The new backup is then opened read-only as it lies in the backup
//     directory (BackupInfo::env_for_open) and its head read back: a backup
//     that does not hold the head recorded with it is deleted, and the
//     backup fails.

#include "storage/rocks_backup.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/stackable_db.h"
#include "storage/event_log.h"
#include "storage/format.h"
#include "storage/merkle.h"
#include "storage/rocks_event_log.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"
#include "storage/status_macros.h"

namespace annals::storage {

struct RocksEventLog::WriterHold {
  void Release() {
    absl::MutexLock lock(&mu);
    released = true;
  }

  absl::Mutex mu;
  bool held ABSL_GUARDED_BY(mu) = false;
  bool released ABSL_GUARDED_BY(mu) = false;
  // Why the writer could not be held; else what it holds the log at.
  absl::Status status ABSL_GUARDED_BY(mu);
  Head head ABSL_GUARDED_BY(mu);
  TreeHead tree_head ABSL_GUARDED_BY(mu);
};

namespace {

namespace fs = std::filesystem;
using format::ColumnFamily;

// A log's head and tree head, as a backup records them or as a database
// holds them.
struct Heads {
  Head head;
  TreeHead tree_head;
};

// The log's database as BackupEngine sees it: the same database, except
// that `release` is called as soon as RocksDB has listed the files a
// backup copies and the WAL's length.
class ReleaseAfterListing final : public rocksdb::StackableDB {
 public:
  // `db` is not owned.
  ReleaseAfterListing(rocksdb::DB* db, std::function<void()> release)
      : StackableDB(std::shared_ptr<rocksdb::DB>(db, [](rocksdb::DB*) {})),
        release_(std::move(release)) {}

  rocksdb::Status GetLiveFilesStorageInfo(
      const rocksdb::LiveFilesStorageInfoOptions& options,
      std::vector<rocksdb::LiveFileStorageInfo>* files) override {
    rocksdb::Status listed =
        StackableDB::GetLiveFilesStorageInfo(options, files);
    release_();
    return listed;
  }

 private:
  const std::function<void()> release_;
};

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

// The metadata of a backup of a log at `heads` (format.h, "Backups").
std::string EncodeMetadata(const Heads& heads) {
  return absl::StrCat(
      format::kBackupMetadataFormat, " position=", heads.head.position,
      " hash=", Hex(heads.head.hash), " root=", Hex(heads.tree_head.root));
}

// `hex`, 64 lowercase hex digits, as 32 bytes.
bool ParseHash(absl::string_view hex, std::string* bytes) {
  if (hex.size() != 2 * format::kHashSize) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  *bytes = absl::HexStringToBytes(hex);
  return true;
}

// False when `metadata` is not what EncodeMetadata writes.
bool ParseMetadata(absl::string_view metadata, Heads* heads) {
  std::vector<absl::string_view> words = absl::StrSplit(metadata, ' ');
  if (words.size() != 4 || words[0] != format::kBackupMetadataFormat) {
    return false;
  }
  absl::string_view position = words[1], hash = words[2], root = words[3];
  if (!absl::ConsumePrefix(&position, "position=") ||
      !absl::SimpleAtoi(position, &heads->head.position) ||
      !absl::ConsumePrefix(&hash, "hash=") ||
      !ParseHash(hash, &heads->head.hash) ||
      !absl::ConsumePrefix(&root, "root=") ||
      !ParseHash(root, &heads->tree_head.root)) {
    return false;
  }
  heads->tree_head.size = heads->head.position;
  return true;
}

// What differs between the heads a backup records and those a database
// holds, readable; "" when nothing does.
std::string Differences(const Heads& recorded, const Heads& held) {
  std::vector<std::string> differences;
  if (held.head.position != recorded.head.position) {
    differences.push_back(absl::StrCat("head position ", held.head.position,
                                       " instead of ", recorded.head.position));
  }
  if (held.head.hash != recorded.head.hash) {
    differences.push_back(absl::StrCat("chain hash ", Hex(held.head.hash),
                                       " instead of ",
                                       Hex(recorded.head.hash)));
  }
  if (held.tree_head.root != recorded.tree_head.root) {
    differences.push_back(absl::StrCat("Merkle root ", Hex(held.tree_head.root),
                                       " instead of ",
                                       Hex(recorded.tree_head.root)));
  }
  return absl::StrJoin(differences, ", ");
}

// The heads of the log database at `path`, opened read-only through `env`
// (null: the default). With `check_events`, also recomputes the hash chain
// and the Merkle root from every event and checks them against meta's
// (CheckChain). DATA_LOSS when it does not open or check.
absl::StatusOr<Heads> ReadHeads(rocksdb::Env* env, const std::string& path,
                                bool check_events) {
  LogOptions small;
  small.block_cache_bytes = 8 << 20;
  RocksOptions rocks = EventLogRocksOptions(small, env);
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
      rocks.db, path, rocks.column_families, &handles, &raw);
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("the log in ", path, " does not open: ", s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  absl::Cleanup destroy_handles = [&db, &handles] {
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      rocksdb::Status destroyed = db->DestroyColumnFamilyHandle(handle);
      (void)destroyed;
    }
  };
  rocksdb::ColumnFamilyHandle* meta =
      handles[static_cast<int>(ColumnFamily::kMeta)];
  const rocksdb::ReadOptions read;
  std::string value;
  uint64_t version = 0;
  s = db->Get(read, meta, ToSlice(format::kMetaFormatVersion), &value);
  if (!s.ok() || !format::ParseBigEndian64(value, &version)) {
    return Corrupt("meta holds no format version");
  }
  if (version != format::kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("the log is of format version ", version,
                     "; this build reads version ", format::kFormatVersion));
  }
  Heads heads;
  ASSIGN_OR_RETURN(heads.head, ReadHeadOf(db.get(), meta, read));
  merkle::Frontier frontier;
  s = db->Get(read, meta, ToSlice(format::kMetaMerkleFrontier), &value);
  if (s.ok()) {
    absl::StatusOr<merkle::Frontier> decoded = merkle::DecodeFrontier(value);
    if (!decoded.ok()) return Corrupt(decoded.status().message());
    frontier = *std::move(decoded);
  } else if (!s.IsNotFound()) {
    return RocksError(s, "read the merkle frontier");
  }
  if (frontier.size != heads.head.position) {
    return Corrupt(absl::StrCat("the Merkle tree in meta has ", frontier.size,
                                " leaves but the head position is ",
                                heads.head.position));
  }
  heads.tree_head = {frontier.size, merkle::RootOf(frontier)};
  if (check_events) {
    rocksdb::ReadOptions scan;
    scan.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> events(db->NewIterator(
        scan, handles[static_cast<int>(ColumnFamily::kEvents)]));
    merkle::Frontier recomputed;
    RETURN_IF_ERROR(CheckChain(events.get(), heads.head, &recomputed));
    if (merkle::RootOf(recomputed) != heads.tree_head.root) {
      return Corrupt(
          "the Merkle root recomputed from the events is not meta's root");
    }
  }
  return heads;
}

absl::Status InvalidDirectory(absl::string_view why) {
  return absl::InvalidArgumentError(why);
}

// Whether `path` is `dir` or lies inside it (both normalized).
bool IsWithin(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

// OK when `dir` can take a backup of the log in `log_dir`; else
// INVALID_ARGUMENT saying why.
absl::Status CheckBackupDirectory(const std::string& dir,
                                  const std::string& log_dir) {
  if (dir.empty()) {
    return InvalidDirectory(
        "required: the directory to back up into, an absolute path on the "
        "server's host");
  }
  const fs::path path(dir);
  if (!path.is_absolute()) {
    return InvalidDirectory(absl::StrCat(
        "must be an absolute path on the server's host, got \"", dir, "\""));
  }
  std::error_code error;
  const fs::path normal = fs::weakly_canonical(path, error);
  const fs::path log = fs::weakly_canonical(log_dir, error);
  if (!error && IsWithin(normal, log)) {
    return InvalidDirectory(
        absl::StrCat(dir, " is inside the data directory ", log.string(),
                     ": back up into a directory outside it"));
  }
  const fs::file_status status = fs::status(normal, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return InvalidDirectory(absl::StrCat(dir, " is not a directory"));
    }
    if (!fs::is_empty(normal, error) &&
        !fs::is_directory(normal / "meta", error)) {
      return InvalidDirectory(absl::StrCat(
          dir, " is neither empty nor a backup directory (it has no meta/)"));
    }
    if (access(normal.c_str(), W_OK | X_OK) != 0) {
      return InvalidDirectory(absl::StrCat(dir, " is not writable by annalsd"));
    }
    return absl::OkStatus();
  }
  const fs::path parent = normal.parent_path();
  if (!fs::is_directory(parent, error)) {
    return InvalidDirectory(
        absl::StrCat(dir, " does not exist, nor does its parent directory ",
                     parent.string()));
  }
  if (access(parent.c_str(), W_OK | X_OK) != 0) {
    return InvalidDirectory(
        absl::StrCat(dir, " does not exist and annalsd cannot create it in ",
                     parent.string()));
  }
  return absl::OkStatus();
}

BackupEntry EntryOf(const rocksdb::BackupInfo& info) {
  BackupEntry entry;
  entry.id = info.backup_id;
  entry.created_unix_seconds = info.timestamp;
  entry.files = info.number_files;
  entry.bytes = info.size;
  Heads heads;
  entry.has_head = ParseMetadata(info.app_metadata, &heads);
  if (entry.has_head) {
    entry.head = std::move(heads.head);
    entry.tree_head = std::move(heads.tree_head);
  }
  return entry;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenBackups(
    const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat("no backup directory at ", dir));
  }
  rocksdb::BackupEngineReadOnly* engine = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::BackupEngineOptions(dir), rocksdb::Env::Default(), &engine);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the backup directory ", dir, ": ", s.ToString()));
  }
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(engine);
}

// Removes what a failed restore wrote into `data_dir`: everything in it,
// and the directory itself when it did not exist before.
void Unrestore(const std::string& data_dir, bool existed) {
  std::error_code error;
  if (!existed) {
    fs::remove_all(data_dir, error);
    return;
  }
  for (const fs::directory_entry& entry :
       fs::directory_iterator(data_dir, error)) {
    fs::remove_all(entry.path(), error);
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<RocksEventLog::WriterHold>>
RocksEventLog::HoldWriter() {
  auto hold = std::make_shared<WriterHold>();
  auto request = std::make_unique<Request>();
  request->exclusive = [this, hold] {
    absl::MutexLock lock(&hold->mu);
    if (write_failed_.ok()) {
      hold->head = committed_;
      hold->tree_head = {frontier_.size, merkle::RootOf(frontier_)};
    } else {
      hold->status = write_failed_;
    }
    hold->held = true;
    if (hold->status.ok()) hold->mu.Await(absl::Condition(&hold->released));
  };
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("event log is closed");
    queue_.push_back(std::move(request));
  }
  absl::MutexLock lock(&hold->mu, absl::Condition(&hold->held));
  if (!hold->status.ok()) return hold->status;
  return hold;
}

absl::StatusOr<BackupReport> RocksEventLog::Backup(const std::string& dir) {
  RETURN_IF_ERROR(CheckBackupDirectory(dir, db_->GetName()));
  absl::MutexLock one_at_a_time(&backup_mu_);
  rocksdb::BackupEngineOptions engine_options(dir);
  // The WAL makes a backup one commit of every column family (see the top
  // of this file). These are RocksDB's defaults, spelled out: tables
  // shared between the backups of a directory, named by their DB session
  // so that a table is never taken for another; everything synced.
  engine_options.backup_log_files = true;
  engine_options.share_table_files = true;
  engine_options.share_files_with_checksum = true;
  engine_options.sync = true;
  engine_options.info_log = db_->GetDBOptions().info_log.get();
  rocksdb::BackupEngine* raw_engine = nullptr;
  rocksdb::IOStatus io =
      rocksdb::BackupEngine::Open(engine_options, db_->GetEnv(), &raw_engine);
  if (!io.ok()) {
    return RocksError(io, absl::StrCat("open the backup directory ", dir));
  }
  std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);

  // Outside the hold: what an interrupted backup left is removed now rather
  // than by CreateNewBackup, and the WAL the backup copies is short.
  io = engine->GarbageCollect();
  if (!io.ok()) {
    return RocksError(io, absl::StrCat("clean the backup directory ", dir));
  }
  rocksdb::Status flushed = db_->Flush(rocksdb::FlushOptions(), handles_);
  if (!flushed.ok()) return RocksError(flushed, "flush before a backup");

  ASSIGN_OR_RETURN(const std::shared_ptr<WriterHold> hold, HoldWriter());
  absl::Cleanup release = [&hold] { hold->Release(); };
  Heads held;
  {
    absl::MutexLock lock(&hold->mu);
    held = {hold->head, hold->tree_head};
  }
  ReleaseAfterListing listed(db_.get(), [&hold] { hold->Release(); });
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = false;  // flushed above
  rocksdb::BackupID id = 0;
  io = engine->CreateNewBackupWithMetadata(create, &listed,
                                           EncodeMetadata(held), &id);
  std::move(release).Invoke();
  if (!io.ok()) return RocksError(io, absl::StrCat("back up into ", dir));

  rocksdb::BackupInfo info;
  rocksdb::Status got =
      engine->GetBackupInfo(id, &info, /*include_file_details=*/true);
  if (!got.ok()) return RocksError(got, absl::StrCat("read backup ", id));
  absl::StatusOr<Heads> backed_up =
      ReadHeads(info.env_for_open.get(), info.name_for_open,
                /*check_events=*/false);
  const std::string differences =
      backed_up.ok() ? Differences(held, *backed_up) : "";
  if (!backed_up.ok() || !differences.empty()) {
    rocksdb::IOStatus deleted = engine->DeleteBackup(id);
    (void)deleted;
    return absl::InternalError(absl::StrCat(
        "backup ", id, " in ", dir, " does not hold the head it was taken at (",
        backed_up.ok() ? differences : backed_up.status().ToString(),
        "); it was deleted"));
  }

  // The bytes of the files no earlier backup of the directory has.
  std::vector<rocksdb::BackupInfo> all;
  engine->GetBackupInfo(&all, /*include_file_details=*/true);
  absl::flat_hash_set<std::string> earlier;
  for (const rocksdb::BackupInfo& other : all) {
    if (other.backup_id == id) continue;
    for (const rocksdb::BackupFileInfo& file : other.file_details) {
      earlier.insert(file.relative_filename);
    }
  }
  BackupReport report;
  for (const rocksdb::BackupFileInfo& file : info.file_details) {
    if (!earlier.contains(file.relative_filename)) {
      report.copied_bytes += file.size;
    }
  }
  report.id = id;
  report.head = std::move(held.head);
  report.tree_head = std::move(held.tree_head);
  report.files = info.number_files;
  report.bytes = info.size;
  return report;
}

absl::StatusOr<std::vector<BackupEntry>> ListRocksBackups(
    const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngineReadOnly> engine,
                   OpenBackups(dir));
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  std::vector<BackupEntry> entries;
  for (const rocksdb::BackupInfo& info : infos) {
    if (info.backup_id != 0) entries.push_back(EntryOf(info));
  }
  return entries;
}

absl::StatusOr<BackupEntry> RestoreRocksBackup(const std::string& dir,
                                               uint32_t id,
                                               const std::string& data_dir) {
  std::error_code error;
  const bool existed = fs::exists(data_dir, error);
  if (existed) {
    if (!fs::is_directory(data_dir, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("the data directory ", data_dir, " is not a directory"));
    }
    fs::directory_iterator entries(data_dir, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read the data directory ", data_dir, ": ", error.message()));
    }
    if (entries != fs::directory_iterator()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data directory ", data_dir, " is not empty (it holds ",
          entries->path().filename().string(),
          "): a backup is restored only into an empty or missing directory"));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngineReadOnly> engine,
                   OpenBackups(dir));
  rocksdb::BackupInfo info;
  rocksdb::Status got = engine->GetBackupInfo(id, &info);
  if (got.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat(dir, " holds no backup ", id));
  }
  if (!got.ok()) {
    return absl::DataLossError(absl::StrCat("backup ", id, " in ", dir,
                                            " is damaged: ", got.ToString()));
  }
  const BackupEntry entry = EntryOf(info);
  if (!entry.has_head) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup ", id, " in ", dir,
                     " records no head: it is not a backup annals took"));
  }
  rocksdb::IOStatus io =
      engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!io.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", id, " in ", dir,
                     " is damaged and was not restored: ", io.ToString()));
  }
  absl::Cleanup undo = [&data_dir, existed] { Unrestore(data_dir, existed); };
  io = engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), id, data_dir,
                                   data_dir);
  if (!io.ok()) {
    return absl::UnavailableError(absl::StrCat("restoring backup ", id, " of ",
                                               dir, " into ", data_dir,
                                               " failed: ", io.ToString()));
  }
  absl::StatusOr<Heads> restored =
      ReadHeads(nullptr, data_dir, /*check_events=*/true);
  if (!restored.ok()) {
    return absl::Status(
        restored.status().code(),
        absl::StrCat(
            "backup ", id, " of ", dir, " restored into ", data_dir,
            " does not check, and was removed: ", restored.status().message()));
  }
  const std::string differences =
      Differences({entry.head, entry.tree_head}, *restored);
  if (!differences.empty()) {
    return absl::DataLossError(absl::StrCat(
        "the log restored from backup ", id, " of ", dir,
        " is not the log the backup records, and was removed: ", differences));
  }
  std::move(undo).Cancel();
  return entry;
}

}  // namespace annals::storage
