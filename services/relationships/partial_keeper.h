// Keeps every dyad's year and month partials (storage/format.h) current
// in the background, so that a state as of a date finds them kept rather
// than folding each year of a large dyad first (services/relationships/
// as_of.h). It works only while the log is idle: once the head has not
// moved for `idle`, it folds what appends made stale since its last pass
// (KeepPartials, dyad by dyad), and it stops a pass as soon as the head
// moves again. A pass over a log whose partials are current reads each
// dyad's month marks and kept partials, and folds nothing.
//
// With the log's RelationshipAnswers it also keeps, in the same pass, the
// GetRelationship answer of each dyad that has none kept (after opening,
// or dropped by the appends since), so that a dashboard's first asks after
// a restart or a burst of appends are answered from memory rather than
// assembled from storage (1M-event log, 3 s of asks as soon as annalsd is
// idle after opening: p99 0.73-0.99 -> 0.47-0.51 ms). Dyads go most
// recently active first, and only while the answers fill less than half
// their budget: the rest is left to what readers ask.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_PARTIAL_KEEPER_H_
#define ANNALS_SERVICES_RELATIONSHIPS_PARTIAL_KEEPER_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/relationships/answers.h"
#include "storage/event_log.h"

namespace annals::services {

class PartialKeeper {
 public:
  // Starts keeping the partials of `log`, which must outlive this and keep
  // a RelationshipProjector (services/relationships/projector.h), and the
  // answers of that projector's `answers` (RelationshipProjector::answers,
  // not owned, may be null: no answers are kept).
  PartialKeeper(const storage::EventLog* log, absl::Duration idle,
                const RelationshipAnswers* answers = nullptr);
  // Stops, within one dyad's fold.
  ~PartialKeeper();

  PartialKeeper(const PartialKeeper&) = delete;
  PartialKeeper& operator=(const PartialKeeper&) = delete;

  // The head of the last pass that completed (0 before the first).
  uint64_t CurrentAt() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // One pass at `head`: true when it completed, false when the head moved
  // or the keeper is stopping.
  bool Pass(uint64_t head) ABSL_LOCKS_EXCLUDED(mu_);
  bool Stopping() const ABSL_LOCKS_EXCLUDED(mu_);
  // Reads and keeps `dyad`'s answer when none is kept and it fits in half
  // of the answers' budget.
  void KeepAnswer(const std::string& dyad);

  const storage::EventLog* const log_;
  const absl::Duration idle_;
  const RelationshipAnswers* const answers_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t current_at_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_PARTIAL_KEEPER_H_
