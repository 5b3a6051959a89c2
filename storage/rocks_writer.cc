// The write path's queue and threads (rocks_event_log_impl.h). AppendAsync
// queues a request. The writer thread (WriterLoop) takes the queue in groups
// (TakeGroup) and commits each (CommitGroup, rocks_commit_group.cc), or runs
// an exclusive task (a rebuild) alone, with nothing in flight. It hands every
// written group to the syncer thread (Enqueue), which makes all the groups
// it holds durable with one SyncWAL, then for each in order publishes the
// head and read snapshot (Publish), tells LogOptions::on_commit and answers
// the requests (Respond).

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/event.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/snapshot.h"
#include "storage/event_log.h"
#include "storage/rocks_event_log_impl.h"
#include "storage/rocks_internal.h"

namespace annals::storage {

void RocksEventLog::AppendAsync(AppendBatch batch, AppendCallback done) {
  if (!replica_of_.empty()) {
    std::move(done)(absl::FailedPreconditionError(absl::StrCat(
        "this event log is a replica of ", replica_of_,
        "; appends go through the log of record")));
    return;
  }
  auto request = std::make_unique<Request>();
  for (const v1::Event& event : batch.events) {
    request->bytes += event.ByteSizeLong();
  }
  request->batch = std::move(batch);
  request->done = std::move(done);
  Queue(std::move(request));
}

void RocksEventLog::ApplyAsync(CommittedAppend append, AppendCallback done) {
  if (replica_of_.empty()) {
    std::move(done)(absl::FailedPreconditionError(
        "this event log is not a replica: it takes appends, not committed "
        "appends"));
    return;
  }
  auto request = std::make_unique<Request>();
  for (const v1::Event& event : append.batch.events) {
    request->bytes += event.ByteSizeLong();
  }
  request->batch = std::move(append.batch);
  request->sequence = append.sequence;
  request->committed_at = append.recorded_at;
  request->done = std::move(done);
  Queue(std::move(request));
}

uint64_t RocksEventLog::AppliedSequence() const {
  absl::MutexLock lock(&head_mu_);
  return applied_sequence_;
}

void RocksEventLog::Queue(std::unique_ptr<Request> request) {
  absl::Status rejected;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      rejected = absl::UnavailableError("event log is closed");
    } else if (!failed_.ok()) {
      rejected = failed_;
    } else {
      queue_.push_back(std::move(request));
      return;
    }
  }
  std::move(request->done)(std::move(rejected));
}

void RocksEventLog::Probe(absl::AnyInvocable<void() &&> reached) {
  auto request = std::make_unique<Request>();
  request->probe = true;
  request->done =
      [reached = std::move(reached)](absl::StatusOr<AppendResult>) mutable {
        std::move(reached)();
      };
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      queue_.push_back(std::move(request));
      return;
    }
  }
  std::move(request->done)(absl::UnavailableError("event log is closed"));
}

void RocksEventLog::WriterLoop() {
  std::vector<std::unique_ptr<Request>> requests;
  while (TakeGroup(&requests)) {
    if (requests.size() == 1 && requests[0]->exclusive) {
      // Alone: nothing in flight, and readers read the latest state, which
      // is then all durable, including what the task writes (synced).
      DrainSyncer();
      {
        absl::MutexLock lock(&head_mu_);
        read_latest_ = true;
      }
      std::move(requests[0]->exclusive)();
      std::shared_ptr<const rocksdb::Snapshot> after = TakeSnapshot();
      {
        absl::MutexLock lock(&head_mu_);
        read_snapshot_ = std::move(after);
        read_latest_ = false;
      }
      Progressed();
      if (requests[0]->after_exclusive) {
        std::move(requests[0]->after_exclusive)();
      }
    } else {
      // Probes go with the group, answered after its appends.
      const auto probes = std::stable_partition(
          requests.begin(), requests.end(),
          [](const std::unique_ptr<Request>& r) { return !r->probe; });
      std::vector<std::unique_ptr<Request>> appends(
          std::make_move_iterator(requests.begin()),
          std::make_move_iterator(probes));
      Commit commit = appends.empty() ? Commit() : CommitGroup(appends);
      commit.requests = std::move(appends);
      commit.requests.insert(commit.requests.end(),
                             std::make_move_iterator(probes),
                             std::make_move_iterator(requests.end()));
      Progressed();  // before anything of the group is answered
      Enqueue(std::move(commit));
    }
    requests.clear();
  }
  absl::MutexLock lock(&sync_mu_);
  writer_done_ = true;
}

std::shared_ptr<const rocksdb::Snapshot> RocksEventLog::TakeSnapshot() const {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(
      db->GetSnapshot(),
      [db](const rocksdb::Snapshot* snapshot) { db->ReleaseSnapshot(snapshot); });
}

void RocksEventLog::Enqueue(Commit commit) {
  absl::MutexLock lock(&sync_mu_);
  to_sync_.push_back(std::move(commit));
}

void RocksEventLog::DrainSyncer() {
  absl::MutexLock lock(&sync_mu_,
                       absl::Condition(this, &RocksEventLog::SyncerIdle));
}

void RocksEventLog::SyncerLoop() {
  std::deque<Commit> commits;
  while (true) {
    absl::Status failed;
    {
      absl::MutexLock lock(&sync_mu_,
                           absl::Condition(this, &RocksEventLog::SyncerHasWork));
      if (to_sync_.empty()) return;  // the writer is done
      commits.swap(to_sync_);
      syncing_ = true;
      failed = sync_failed_;
    }
    // One sync for every group written so far.
    const bool wrote = std::any_of(commits.begin(), commits.end(),
                                   [](const Commit& c) { return c.wrote; });
    if (failed.ok() && wrote && options_.sync) {
      const absl::Time sync_start = absl::Now();
      absl::Status synced = SyncWal();
      if (synced.ok() && options_.observer != nullptr) {
        options_.observer->Synced(absl::Now() - sync_start);
      }
      if (!synced.ok()) {
        failed = Refused(synced);
        Fail(failed);
      }
    }
    std::deque<Commit> limbo;
    for (Commit& commit : commits) {
      if (commit.wrote && !failed.ok()) {
        // Written but not known durable: not acknowledged, and made durable
        // and published once storage is back (TryResume).
        const absl::Status maybe = absl::UnavailableError(absl::StrCat(
            failed.message(), "; this append was written but is not known "
            "to be durable: it may be recorded once storage is back, and a "
            "retry with the same event ids is safe"));
        commit.unpublished = StagedEvents(commit.requests);
        for (const auto& request : commit.requests) request->result = maybe;
        Respond(&commit.requests);
        limbo.push_back(std::move(commit));
        continue;
      }
      if (commit.wrote) {
        Publish(commit);
        if (options_.on_commit) {
          std::vector<const v1::RecordedEvent*> events =
              StagedEvents(commit.requests);
          if (!events.empty()) options_.on_commit(events, commit.head);
        }
      }
      Respond(&commit.requests);
    }
    commits.clear();
    absl::MutexLock lock(&sync_mu_);
    for (Commit& commit : limbo) limbo_.push_back(std::move(commit));
    syncing_ = false;
  }
}

void RocksEventLog::Publish(const Commit& commit) {
  absl::MutexLock lock(&head_mu_);
  head_ = commit.head;
  if (commit.grew) tree_head_ = commit.tree_head;
  applied_sequence_ = commit.applied_sequence;
  read_snapshot_ = commit.snapshot;
}

std::shared_ptr<const rocksdb::Snapshot> RocksEventLog::ReadSnapshot() const {
  absl::MutexLock lock(&head_mu_);
  if (read_latest_) return nullptr;
  return read_snapshot_;
}

void RocksEventLog::WaitForWorkOrResume() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (failed_.ok() || !resumable_) {
        resume_at_ = absl::InfiniteFuture();
        return;
      }
      // Due every kResumeInterval however often work (a probe) arrives.
      if (resume_at_ == absl::InfiniteFuture()) {
        resume_at_ = absl::Now() + kResumeInterval;
      }
      if (mu_.AwaitWithDeadline(
              absl::Condition(this, &RocksEventLog::WriterHasWork),
              resume_at_)) {
        return;
      }
    }
    TryResume();
    resume_at_ = absl::Now() + kResumeInterval;
  }
}

bool RocksEventLog::TakeGroup(std::vector<std::unique_ptr<Request>>* requests) {
  for (bool work = false; !work;) {
    WaitForWorkOrResume();
    bool woken = false;
    {
      absl::MutexLock lock(&mu_);
      woken = mu_.AwaitWithTimeout(
          absl::Condition(this, &RocksEventLog::WriterShouldWake),
          kIdleSnapshotRefresh);
      // Else storage failed meanwhile: resume first.
      work = woken && WriterHasWork();
    }
    if (!woken) RefreshIdleSnapshot();
  }
  if (options_.before_group) options_.before_group();
  absl::MutexLock lock(&mu_,
                       absl::Condition(this, &RocksEventLog::WriterHasWork));
  size_t events = 0;
  size_t bytes = 0;
  while (!queue_.empty()) {
    const Request& next = *queue_.front();
    if (next.exclusive) {
      // Alone: after the appends queued before it, before those after it.
      if (requests->empty()) {
        requests->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      break;
    }
    const size_t n = next.batch.events.size();
    if (!requests->empty() && (events + n > options_.max_group_events ||
                               bytes + next.bytes > options_.max_group_bytes)) {
      break;
    }
    events += n;
    bytes += next.bytes;
    requests->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return !requests->empty();
}

void RocksEventLog::RefreshIdleSnapshot() {
  anchor_.reset();
  if (!write_failed_.ok()) return;
  {
    absl::MutexLock lock(&sync_mu_);
    if (!SyncerIdle() || !sync_failed_.ok() || !limbo_.empty()) return;
  }
  const rocksdb::SequenceNumber latest = db_->GetLatestSequenceNumber();
  {
    absl::MutexLock lock(&head_mu_);
    if (read_latest_ || read_snapshot_ == nullptr ||
        read_snapshot_->GetSequenceNumber() >= latest) {
      return;
    }
  }
  // No group is written meanwhile: this thread writes them.
  std::shared_ptr<const rocksdb::Snapshot> fresh = TakeSnapshot();
  absl::MutexLock lock(&head_mu_);
  read_snapshot_ = std::move(fresh);
}

void RocksEventLog::Respond(std::vector<std::unique_ptr<Request>>* requests) {
  for (const auto& request : *requests) {
    std::move(request->done)(std::move(request->result));
  }
}

}  // namespace annals::storage
