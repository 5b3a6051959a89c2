// The seed timeline (deploy/seed/timeline.jsonl) in a RocksDB event log
// kept in memory, with the RelationshipProjector: what the query targets
// ask their requests of.
#ifndef ANNALS_TESTS_FUZZ_SEEDED_LOG_H_
#define ANNALS_TESTS_FUZZ_SEEDED_LOG_H_

#include <vector>

#include "annals/v1/event.pb.h"
#include "services/relationships/queries.h"
#include "storage/event_log.h"

namespace annals::fuzz {

// The seed timeline's events as the server records them (normalized),
// each recorded in its primary dyad's stream at positions 1, 2, 3 ...
// Built on first use; aborts when the seed does not load.
const std::vector<v1::RecordedEvent>& SeedEvents();

// The log holding SeedEvents(). Built on first use.
const storage::EventLog& SeededLog();

// The queries of a log holding SeedEvents(), with its kept answers. Built
// on first use (the log stays open until the process ends).
const services::RelationshipQueries& SeededQueries();

}  // namespace annals::fuzz

#endif  // ANNALS_TESTS_FUZZ_SEEDED_LOG_H_
