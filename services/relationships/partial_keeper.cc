#include "services/relationships/partial_keeper.h"

#include <pthread.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "log/log.h"
#include "services/relationships/as_of.h"
#include "services/relationships/stored_state.h"
#include "storage/format.h"
#include "storage/projector.h"

namespace annals::services {

namespace format = storage::format;

PartialKeeper::PartialKeeper(const storage::EventLog* log, absl::Duration idle,
                             const RelationshipAnswers* answers)
    : log_(log), idle_(idle), answers_(answers), thread_([this] { Run(); }) {
  pthread_setname_np(thread_.native_handle(), "annals-keeper");
}

PartialKeeper::~PartialKeeper() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

uint64_t PartialKeeper::CurrentAt() const {
  absl::MutexLock lock(&mu_);
  return current_at_;
}

bool PartialKeeper::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

void PartialKeeper::Run() {
  // The head seen one idle period ago: a pass starts when it is still the
  // head, and that head has not been passed over yet.
  uint64_t seen = log_->GetHead().position;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_;
      };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), idle_)) return;
    }
    const uint64_t head = log_->GetHead().position;
    const bool idle = head == seen;
    seen = head;
    if (!idle || head == CurrentAt()) continue;
    if (Pass(head)) {
      absl::MutexLock lock(&mu_);
      current_at_ = head;
    }
  }
}

bool PartialKeeper::Pass(uint64_t head) {
  std::vector<std::string> dyads;
  const absl::Status listed = log_->ScanProjection(
      storage::ProjectionFamily::kRelationships,
      std::string(1, format::kByActivityTag), "", storage::Direction::kBackward,
      [&dyads](absl::string_view key, absl::string_view) {
        dyads.emplace_back(format::DyadOfOrderKey(key));
        return true;
      });
  if (!listed.ok()) {
    annals::log::Warn("year_partials_not_kept",
                      {{"error", listed.ToString()}});
    return false;
  }
  const absl::Time start = absl::Now();
  int64_t folded = 0;
  for (const std::string& dyad : dyads) {
    if (Stopping() || log_->GetHead().position != head) return false;
    absl::StatusOr<int> kept = KeepPartials(*log_, dyad);
    if (!kept.ok()) {
      annals::log::Warn("year_partials_not_kept",
                        {{"dyad", dyad}, {"error", kept.status().ToString()}});
      return false;
    }
    folded += *kept;
    if (answers_ != nullptr) KeepAnswer(dyad);
  }
  if (folded > 0) {
    annals::log::Info("year_partials_kept",
                      {{"head", static_cast<int64_t>(head)},
                       {"folded", folded},
                       {"dyads", static_cast<int64_t>(dyads.size())},
                       {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}});
  }
  return true;
}

void PartialKeeper::KeepAnswer(const std::string& dyad) {
  const size_t room = answers_->max_bytes() / 2;
  if (answers_->kept_bytes() >= room) return;
  RelationshipAnswers::Miss miss;
  if (answers_->Find(dyad, &miss) != nullptr) return;
  // As a reader does (RelationshipQueries): the head before the read.
  const uint64_t head = log_->GetHead().position;
  absl::StatusOr<std::string> stored = ReadStoredRelationship(*log_, dyad);
  if (absl::IsNotFound(stored.status())) return;  // no events left
  if (!stored.ok()) {
    annals::log::Warn("relationship_answer_not_kept",
                      {{"dyad", dyad}, {"error", stored.status().ToString()}});
    return;
  }
  if (answers_->kept_bytes() + dyad.size() + stored->size() > room) return;
  answers_->Keep(dyad, miss, head, *std::move(stored));
}

}  // namespace annals::services
