// A RocksDB event log with the RelationshipProjector installed, and the
// seed timeline (deploy/seed/timeline.jsonl) to fill it with.
#ifndef ANNALS_TESTS_RELATIONSHIPS_SEEDED_LOG_H_
#define ANNALS_TESTS_RELATIONSHIPS_SEEDED_LOG_H_

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annals/v1/event.pb.h"
#include "clients/bench/event_generator.h"
#include "clients/cli/event_format.h"
#include "gtest/gtest.h"
#include "proto/rpc_status.h"
#include "services/model/projection.h"
#include "services/relationships/projector.h"
#include "services/model/validation.h"
#include "storage/event_log.h"
#include "storage/projector.h"
#include "tests/storage/test_events.h"

namespace annals::testing {

// The seed timeline's events, normalized as the server records them.
inline const std::vector<v1::Event>& SeedEvents() {
  static const auto* const events = [] {
    std::ifstream in(SEED_FILE);
    std::stringstream contents;
    contents << in.rdbuf();
    auto parsed = ParseEvents(contents.str());
    EXPECT_TRUE(parsed.ok()) << SEED_FILE << ": " << parsed.status();
    auto* out = new std::vector<v1::Event>();
    if (parsed.ok()) *out = *std::move(parsed);
    for (v1::Event& event : *out) services::NormalizeEvent(&event);
    return out;
  }();
  return *events;
}

// A log in a scratch directory that keeps the relationship projections.
class ProjectedLog {
 public:
  // `answer_bytes` and `checkpoint_events`: the projector's
  // (services/relationships/projector.h).
  explicit ProjectedLog(
      uint64_t checkpoint_events = services::kCheckpointEvents,
      size_t answer_bytes = 0)
      : path_(dir_.Sub("log")),
        own_projector_(answer_bytes, checkpoint_events),
        projector_(&own_projector_) {
    Open();
  }
  // A log projected by `projector`, which other logs may share.
  explicit ProjectedLog(services::RelationshipProjector* projector)
      : path_(dir_.Sub("log")), projector_(projector) {
    Open();
  }

  storage::EventLog& log() { return *log_; }
  services::RelationshipAnswers* answers() { return projector_->answers(); }

  void Open() {
    storage::LogOptions options;
    options.sync = false;  // durability is the crash test's business
    options.projector = projector_;
    auto log = storage::OpenRocksEventLog(path_, options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  void Reopen() {
    log_.reset();
    Open();
  }

  // Appends `events` to stream "test", `batch` events per append (the
  // last append takes what is left). Each append commits as one group.
  void Append(const std::vector<v1::Event>& events, size_t batch = 1) {
    for (size_t i = 0; i < events.size(); i += batch) {
      std::vector<v1::Event> part(
          events.begin() + i,
          events.begin() + std::min(events.size(), i + batch));
      auto result = log_->Append(storage::testing::MakeBatch(
          "test", storage::ExpectedVersion::Any(), std::move(part)));
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  // Every entry of a projection family.
  std::map<std::string, std::string> Dump(storage::ProjectionFamily family) {
    std::map<std::string, std::string> entries;
    absl::Status scanned = log_->ScanProjection(
        family, "", "", storage::Direction::kForward,
        [&entries](absl::string_view key, absl::string_view value) {
          entries.emplace(std::string(key), std::string(value));
          return true;
        });
    EXPECT_TRUE(scanned.ok()) << scanned;
    return entries;
  }

 private:
  storage::testing::ScratchDir dir_;
  std::string path_;
  services::RelationshipProjector own_projector_;
  services::RelationshipProjector* const projector_;
  std::unique_ptr<storage::EventLog> log_;
};

// The seed timeline in one ProjectedLog per test program (appended five
// events per group), for the suites that only read it.
inline ProjectedLog& SeededLog() {
  static ProjectedLog log;
  static const bool filled = (log.Append(SeedEvents(), 5), true);
  (void)filled;
  return log;
}

// A date at year ("2002": month 0), month or day precision.
inline v1::Date MakeDate(int year, int month = 0, int day = 0) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

// The first `count` events of the benchmark's generator (clients/bench/
// event_generator.h) over `dyads` dyads, with `correction_fraction` of
// them corrections in blocks of `block_size`.
inline std::vector<v1::Event> GeneratedEvents(uint64_t seed, int dyads,
                                              int block_size,
                                              double correction_fraction,
                                              uint64_t count) {
  bench::GeneratorOptions options;
  options.seed = seed;
  options.dyads = dyads;
  options.block_size = block_size;
  options.correction_fraction = correction_fraction;
  const bench::EventGenerator generator(options);
  std::vector<v1::Event> events;
  for (uint64_t n = 0; n < count; ++n) events.push_back(generator.Make(n));
  return events;
}

// Every event `log` holds, in position order.
inline std::vector<v1::RecordedEvent> ReadEverything(storage::EventLog& log) {
  auto page = log.ReadAll(0, storage::Direction::kForward, 100000);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? page->events : std::vector<v1::RecordedEvent>{};
}

// Every dyad the events touch.
inline std::set<std::string> AllDyads(const std::vector<v1::Event>& events) {
  std::set<std::string> dyads;
  for (const v1::Event& event : events) {
    for (std::string& dyad : services::DyadsOf(event)) {
      dyads.insert(std::move(dyad));
    }
  }
  return dyads;
}

// A correction `id` of `corrected_id`, normalized and valid: RETRACT when
// `amended` is null, else AMEND to it.
inline v1::Event MakeCorrection(const std::string& id,
                                const std::string& corrected_id,
                                const v1::Event* amended) {
  v1::Event event = storage::testing::MakeEvent(id, "Corrects an event.");
  v1::Correction* correction = event.mutable_correction();
  correction->set_corrects_event_id(corrected_id);
  correction->set_reason("the article was misread");
  if (amended == nullptr) {
    correction->set_action(v1::Correction::ACTION_RETRACT);
  } else {
    correction->set_action(v1::Correction::ACTION_AMEND);
    *correction->mutable_amended() = *amended;
    correction->mutable_amended()->clear_id();
  }
  services::NormalizeEvent(&event);
  std::vector<rpc::FieldViolation> violations;
  services::ValidateEvent(event, "correction", &violations);
  EXPECT_TRUE(violations.empty()) << violations.front().field << ": "
                                  << violations.front().description;
  return event;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_RELATIONSHIPS_SEEDED_LOG_H_
