// Event fixtures and a scratch directory for the storage tests.
#ifndef ANNALS_TESTS_STORAGE_TEST_EVENTS_H_
#define ANNALS_TESTS_STORAGE_TEST_EVENTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "tests/testing/scratch_dir.h"

namespace annals::storage::testing {

// A valid event: Koizumi's visit to Pyongyang, 17 September 2002.
inline v1::Event MakeEvent(absl::string_view id,
                           absl::string_view summary =
                               "Koizumi and Kim Jong-il meet in Pyongyang.") {
  v1::Event event;
  event.set_id(std::string(id));
  event.add_source("JPN");
  event.add_target("PRK");
  v1::Occurred* occurred = event.mutable_occurred();
  occurred->mutable_start()->set_year(2002);
  occurred->mutable_start()->set_month(9);
  occurred->mutable_start()->set_day(17);
  occurred->set_precision(v1::DATE_PRECISION_DAY);
  v1::Meeting* meeting = event.mutable_meeting();
  meeting->set_type(v1::Meeting::TYPE_SUMMIT);
  meeting->set_level(v1::Meeting::LEVEL_LEADERS);
  meeting->set_format(v1::Meeting::FORMAT_VISIT);
  meeting->set_place("Pyongyang");
  event.set_summary(std::string(summary));
  v1::Source* source = event.add_sources();
  source->set_publisher("Ministry of Foreign Affairs of Japan");
  source->set_title("Japan-DPRK Pyongyang Declaration");
  return event;
}

// A correction retracting `corrected_id`.
inline v1::Event MakeRetraction(absl::string_view id,
                                absl::string_view corrected_id) {
  v1::Event event = MakeEvent(id, "Retracts an event recorded in error.");
  v1::Correction* correction = event.mutable_correction();
  correction->set_corrects_event_id(std::string(corrected_id));
  correction->set_action(v1::Correction::ACTION_RETRACT);
  correction->set_reason("recorded in error");
  return event;
}

inline AppendBatch MakeBatch(absl::string_view stream, ExpectedVersion expected,
                             std::vector<v1::Event> events) {
  AppendBatch batch;
  batch.stream = std::string(stream);
  batch.expected = expected;
  batch.events = std::move(events);
  batch.principal = "test";
  return batch;
}

// A fresh directory, removed at destruction (tests/testing/scratch_dir.h).
using ::annals::testing::ScratchDir;

}  // namespace annals::storage::testing

#endif  // ANNALS_TESTS_STORAGE_TEST_EVENTS_H_
