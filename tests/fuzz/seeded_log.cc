#include "tests/fuzz/seeded_log.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "clients/cli/event_format.h"
#include "rocksdb/env.h"
#include "services/model/validation.h"
#include "services/relationships/projector.h"
#include "storage/rocks_event_log.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {
namespace {

// The seed's events, parsed as `annals import` reads them.
std::vector<v1::Event> ReadSeed() {
  std::ifstream in(SEED_FILE);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<v1::Event>> events = ParseEvents(text.str());
  Require(events.ok() && !events->empty(), "the seed timeline " SEED_FILE " loads");
  return *std::move(events);
}

struct SeededLog {
  SeededLog() : env(rocksdb::NewMemEnv(rocksdb::Env::Default())) {
    storage::LogOptions options;
    options.sync = false;
    options.projector = &projector;
    absl::StatusOr<std::unique_ptr<storage::EventLog>> opened =
        storage::OpenRocksEventLogWithEnv("/seed", options, env.get());
    Require(opened.ok(), "the in-memory log opens");
    log = *std::move(opened);
    for (const v1::Event& event : ReadSeed()) {
      v1::AppendRequest request;
      *request.add_events() = event;
      absl::StatusOr<storage::AppendBatch> batch =
          services::ToAppendBatch(request, services::Limits());
      Require(batch.ok(), "every seed event is valid");
      Require(log->Append(*std::move(batch)).ok(), "every seed event appends");
    }
    absl::StatusOr<storage::ReadPage> all =
        log->ReadAll(0, storage::Direction::kForward, 1 << 20);
    Require(all.ok(), "the seeded log reads");
    events = std::move(all->events);
    queries = std::make_unique<services::RelationshipQueries>(
        log.get(), projector.answers());
  }

  std::unique_ptr<rocksdb::Env> env;
  services::RelationshipProjector projector{1 << 20};  // answers kept
  std::unique_ptr<storage::EventLog> log;
  std::vector<v1::RecordedEvent> events;
  std::unique_ptr<services::RelationshipQueries> queries;
};

const SeededLog& Seeded() {
  static const SeededLog* const seeded = new SeededLog();
  return *seeded;
}

}  // namespace

const std::vector<v1::RecordedEvent>& SeedEvents() { return Seeded().events; }

const storage::EventLog& SeededLog() { return *Seeded().log; }

const services::RelationshipQueries& SeededQueries() {
  return *Seeded().queries;
}

}  // namespace annals::fuzz
