// Storage failure (rocks_event_log_impl.h): what the RocksDB event log does
// when a write or a sync fails, and how it comes back.
//
// Fail stops the log taking appends and tells the watcher (WatchWritable:
// annalsd's health turns NOT_SERVING). From then on the writer wakes every
// kResumeInterval and calls TryResume, which asks RocksDB to resume its
// background work (DB::Resume; RocksDB resumes from a full disk, but not
// from an I/O error on its WAL, after which only a restart recovers) and
// then makes sure a fresh WAL is in use and
// everything written is flushed to tables, so that the groups written before
// the failure but never known durable (limbo_) are durable now. It checks the
// head on disk against the writer's, publishes those groups (their appends
// were answered UNAVAILABLE, "may be recorded"), and takes appends again.

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "storage/format.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"

namespace annals::storage {

void BackgroundErrorListener::OnBackgroundError(
    rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status* error) {
  absl::MutexLock lock(&mu_);
  if (error_.ok() && error != nullptr && !error->ok()) {
    error_ = RocksError(*error, "background work");
  }
}

absl::Status BackgroundErrorListener::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

void BackgroundErrorListener::Clear() {
  absl::MutexLock lock(&mu_);
  error_ = absl::OkStatus();
}

absl::Status RocksEventLog::Refused(const absl::Status& cause) {
  return absl::UnavailableError(absl::StrCat(
      "the event log cannot write (", cause.message(),
      "); appends are refused until storage is back, which is tried every ",
      absl::FormatDuration(kResumeInterval)));
}

void RocksEventLog::WatchWritable(
    std::function<void(const absl::Status&)> listener) {
  {
    absl::MutexLock lock(&watch_mu_);
    watcher_ = std::move(listener);
  }
  NotifyWatcher();  // the current state
}

void RocksEventLog::NotifyWatcher() {
  absl::MutexLock lock(&watch_mu_);
  if (!watcher_) return;
  absl::Status now;
  {
    absl::MutexLock state(&mu_);
    now = failed_;
  }
  watcher_(now);
}

void RocksEventLog::Fail(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (!failed_.ok()) return;
    failed_ = status;
  }
  {
    absl::MutexLock lock(&sync_mu_);
    if (sync_failed_.ok()) sync_failed_ = status;
  }
  NotifyWatcher();
}

rocksdb::Status RocksEventLog::WriteToWal(rocksdb::WriteBatch* batch) {
  absl::MutexLock lock(&wal_mu_);
  if (!wal_failed_.ok()) {
    return rocksdb::Status::IOError("the write-ahead log failed before");
  }
  // Not synced here: the syncer syncs (SyncerLoop) while the writer builds
  // the next group.
  rocksdb::WriteOptions write;
  write.sync = false;
  rocksdb::Status s = db_->Write(write, batch);
  if (!s.ok()) wal_failed_ = RocksError(s, "write");
  return s;
}

// A failed write here, or a failed sync here, is seen before the next sync
// (wal_mu_). A failed sync of closed WAL files by RocksDB's flush is seen
// through background_errors_, which RocksDB tells a few microseconds after
// the failure: a sync starting in between could still meet that file's
// failed writer.
absl::Status RocksEventLog::SyncWal() {
  absl::MutexLock lock(&wal_mu_);
  if (wal_failed_.ok()) {
    absl::Status background = background_errors_->error();
    if (!background.ok()) {
      wal_failed_ = background;
    } else {
      rocksdb::Status s = db_->SyncWAL();
      if (!s.ok()) wal_failed_ = RocksError(s, "sync the write-ahead log");
    }
  }
  return wal_failed_;
}

void RocksEventLog::TryResume() {
  DrainSyncer();
  const rocksdb::Status resumed = db_->Resume();
  if (resumed.severity() >= rocksdb::Status::Severity::kFatalError) {
    // RocksDB resumes from what it calls hard errors (a full disk), not
    // from fatal ones (an I/O error writing or syncing the WAL: what the
    // disk holds is unknown). Opening the log again recovers.
    {
      absl::MutexLock lock(&mu_);
      resumable_ = false;
      failed_ = absl::UnavailableError(absl::StrCat(
          "the event log cannot write (", resumed.ToString(),
          "), and RocksDB cannot resume after such an error: restart "
          "annalsd once the storage is repaired (nothing acknowledged is "
          "lost)"));
    }
    NotifyWatcher();
    return;
  }
  if (!resumed.ok()) return;  // still failing: the next try is later
  absl::StatusOr<Head> on_disk = ReadMetaHead(rocksdb::ReadOptions());
  if (!on_disk.ok() || on_disk->position != committed_.position ||
      on_disk->hash != committed_.hash) {
    // Never expected: the writer's head is what it last wrote. Appends
    // stay refused; opening the log again recovers from what is on disk.
    {
      absl::MutexLock lock(&mu_);
      resumable_ = false;
      failed_ = absl::DataLossError(absl::StrCat(
          "after storage came back the event log's head on disk is not the "
          "one it wrote (position ", committed_.position, "): ",
          on_disk.ok() ? "another head" : on_disk.status().message(),
          "; restart annalsd to recover from what is on disk"));
    }
    NotifyWatcher();
    return;
  }
  // A fresh WAL, whatever RocksDB's own recovery did: the head written
  // again without the WAL gives meta's memtable something to flush, and a
  // flush starts a new WAL. Then every family is flushed, so that what
  // limbo_'s groups wrote is in tables, not only in a WAL whose sync failed.
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  rocksdb::WriteBatch head;
  if (!head.Put(Cf(format::ColumnFamily::kMeta),
                ToSlice(format::kMetaHeadPosition),
                format::EncodeBigEndian64(committed_.position))
           .ok() ||
      !db_->Write(no_wal, &head).ok()) {
    return;
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  if (!db_->Flush(flush, handles_).ok()) return;

  std::deque<Commit> limbo;
  {
    absl::MutexLock lock(&sync_mu_);
    limbo.swap(limbo_);
    sync_failed_ = absl::OkStatus();
  }
  for (const Commit& commit : limbo) {
    Publish(commit);
    if (options_.on_commit && !commit.unpublished.empty()) {
      options_.on_commit(commit.unpublished, commit.head);
    }
  }
  {
    absl::MutexLock lock(&wal_mu_);
    wal_failed_ = absl::OkStatus();
  }
  background_errors_->Clear();
  write_failed_ = absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    failed_ = absl::OkStatus();
  }
  NotifyWatcher();
}

}  // namespace annals::storage
