#include "services/relationships/answers.h"

#include <utility>

namespace annals::services {

std::shared_ptr<const std::string> RelationshipAnswers::Find(
    absl::string_view dyad, Miss* miss) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(dyad);
  if (it == entries_.end()) {
    miss->epoch = epoch_;
    return nullptr;
  }
  uses_.splice(uses_.begin(), uses_, it->second.use);
  return it->second.answer;
}

std::shared_ptr<const std::string> RelationshipAnswers::Keep(
    absl::string_view dyad, const Miss& miss, uint64_t head,
    std::string answer) const {
  auto shared = std::make_shared<const std::string>(std::move(answer));
  const size_t size = shared->size() + dyad.size();
  absl::MutexLock lock(&mu_);
  if (rebuilding_ || miss.epoch != epoch_ || size > max_bytes_) return shared;
  if (auto changed = changed_at_.find(dyad);
      changed != changed_at_.end() && head < changed->second) {
    return shared;  // read before a change that is (or is about to be) seen
  }
  DropLocked(dyad);  // another reader's, read at the same state or earlier
  while (bytes_ + size > max_bytes_ && !uses_.empty()) {
    const std::string least_used = uses_.back();
    DropLocked(least_used);
  }
  uses_.emplace_front(dyad);
  entries_[dyad] = Entry{shared, uses_.begin()};
  bytes_ += size;
  return shared;
}

void RelationshipAnswers::Changed(absl::string_view dyad, uint64_t position) {
  absl::MutexLock lock(&mu_);
  uint64_t& at = changed_at_[dyad];
  if (position > at) at = position;
  DropLocked(dyad);
}

void RelationshipAnswers::RebuildStarting() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  rebuilding_ = true;
  DropAllLocked();
}

void RelationshipAnswers::RebuildEnded() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  rebuilding_ = false;
  DropAllLocked();
}

size_t RelationshipAnswers::kept() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

size_t RelationshipAnswers::kept_bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

void RelationshipAnswers::DropLocked(absl::string_view dyad) const {
  auto it = entries_.find(dyad);
  if (it == entries_.end()) return;
  bytes_ -= it->second.answer->size() + it->first.size();
  uses_.erase(it->second.use);
  entries_.erase(it);
}

void RelationshipAnswers::DropAllLocked() const {
  entries_.clear();
  uses_.clear();
  bytes_ = 0;
}

}  // namespace annals::services
