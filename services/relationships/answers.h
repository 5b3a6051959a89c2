// GetRelationship's answers for the current state, kept by dyad.
//
// An answer is the stored record and entries of a dyad assembled into a
// GetRelationshipResponse less its head (ReadStoredRelationship): tens of
// KB on a large log, and about half of annalsd's CPU per call (1M-event
// log: ~0.28 -> ~0.15 ms per call with the answer kept). A dashboard asks
// for the same dyads again and again, and most do not change between two
// asks.
//
// Staleness: the RelationshipProjector calls Changed for every dyad a
// commit group changes while it projects the group, that is before the
// group is written and so before any reader can see it; Changed drops the
// dyad's answer and remembers the group's position. A reader keeps what
// it read (Keep) only if the head it read before reading is at or past
// every change announced for the dyad, and no rebuild started meanwhile:
// an answer read from a snapshot older than an announced change is never
// kept. A rebuild (which may rewrite the stored projections without a
// commit) drops every answer, and nothing is kept until it has ended.
//
// Memory: answers are kept up to a byte budget, least recently used
// dropped first. Thread-safe.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_ANSWERS_H_
#define ANNALS_SERVICES_RELATIONSHIPS_ANSWERS_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace annals::services {

class RelationshipAnswers {
 public:
  // Keeps answers up to `max_bytes` in all; 0 keeps none.
  explicit RelationshipAnswers(size_t max_bytes) : max_bytes_(max_bytes) {}

  RelationshipAnswers(const RelationshipAnswers&) = delete;
  RelationshipAnswers& operator=(const RelationshipAnswers&) = delete;

  // --- Readers ---

  // What a reader that found no answer needs to keep the one it reads.
  struct Miss {
    uint64_t epoch = 0;
  };

  // The answer kept for `dyad`, or nullptr (then `*miss` is set: read the
  // answer, then Keep it).
  std::shared_ptr<const std::string> Find(absl::string_view dyad,
                                          Miss* miss) const;

  // Keeps `answer`, the dyad's answer read on a snapshot taken after the
  // head was `head` and after Find returned `miss`; unless the dyad was
  // announced changed at a later position, or a rebuild started since. The
  // answer is then shared with later readers.
  std::shared_ptr<const std::string> Keep(absl::string_view dyad,
                                          const Miss& miss, uint64_t head,
                                          std::string answer) const;

  // --- The projector (on the log's writer thread) ---

  // A commit group whose events end at `position` changes `dyad`'s state.
  void Changed(absl::string_view dyad, uint64_t position);
  // A rebuild is about to start (it may rewrite any state), or has ended
  // and readers see its result.
  void RebuildStarting();
  void RebuildEnded();

  // The byte budget, as constructed.
  size_t max_bytes() const { return max_bytes_; }
  // For tests and metrics.
  size_t kept() const;
  size_t kept_bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const std::string> answer;
    std::list<std::string>::iterator use;  // in uses_
  };

  void DropLocked(absl::string_view dyad) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropAllLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Dyads kept, most recently used first.
  mutable std::list<std::string> uses_ ABSL_GUARDED_BY(mu_);
  mutable size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // The last position announced for each dyad ever changed.
  absl::flat_hash_map<std::string, uint64_t> changed_at_ ABSL_GUARDED_BY(mu_);
  // Counts rebuilds started and ended: an answer read across either is
  // not kept.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool rebuilding_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_ANSWERS_H_
