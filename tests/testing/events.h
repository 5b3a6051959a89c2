// Valid events for tests, built in code so that each test states only what
// it changes.
#ifndef ANNALS_TESTS_TESTING_EVENTS_H_
#define ANNALS_TESTS_TESTING_EVENTS_H_

#include <string>

#include "annals/v1/event.pb.h"

namespace annals::testing {

// A valid summit meeting `source` -> `target` on 2002-09-17 (day
// precision), citing one source.
inline v1::Event MakeMeeting(const std::string& id,
                             const std::string& source = "JPN",
                             const std::string& target = "PRK") {
  v1::Event event;
  event.set_id(id);
  event.add_source(source);
  event.add_target(target);
  v1::Date* start = event.mutable_occurred()->mutable_start();
  start->set_year(2002);
  start->set_month(9);
  start->set_day(17);
  v1::Meeting* meeting = event.mutable_meeting();
  meeting->set_type(v1::Meeting::TYPE_SUMMIT);
  meeting->set_level(v1::Meeting::LEVEL_LEADERS);
  meeting->set_format(v1::Meeting::FORMAT_VISIT);
  meeting->set_place("Pyongyang");
  event.set_summary("Summit " + id + " between " + source + " and " + target);
  event.add_tags("abductions");
  v1::Source* cited = event.add_sources();
  cited->set_publisher("Test Gazette");
  cited->set_title("A test article");
  return event;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_TESTING_EVENTS_H_
