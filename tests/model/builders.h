// Small builders of valid events of every kind, for the projection tests.
// Each builder takes what a test states and fills in the rest.
#ifndef ANNALS_TESTS_MODEL_BUILDERS_H_
#define ANNALS_TESTS_MODEL_BUILDERS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "annals/v1/event.pb.h"

namespace annals::testing {

// A date at day, month ("2018-03": day 0) or year ("2018": month 0)
// precision.
struct When {
  int year;
  int month = 0;
  int day = 0;
};

// An event with id, actors and date set, citing one source, with no kind
// yet.
inline v1::Event MakeBase(const std::string& id,
                          std::vector<std::string> source,
                          std::vector<std::string> target, When when) {
  v1::Event event;
  event.set_id(id);
  for (const std::string& s : source) event.add_source(s);
  for (const std::string& t : target) event.add_target(t);
  v1::Date* start = event.mutable_occurred()->mutable_start();
  start->set_year(when.year);
  start->set_month(when.month);
  start->set_day(when.day);
  event.set_summary("Event " + id);
  v1::Source* cited = event.add_sources();
  cited->set_publisher("Test Gazette");
  cited->set_title("A test article");
  return event;
}

// `event` as a range ending with `end` (at the start's precision).
inline v1::Event Until(v1::Event event, When end) {
  v1::Date* last = event.mutable_occurred()->mutable_end();
  last->set_year(end.year);
  last->set_month(end.month);
  last->set_day(end.day);
  return event;
}

inline v1::Event Meeting(const std::string& id, When when,
                         v1::Meeting::Level level = v1::Meeting::LEVEL_LEADERS,
                         const std::string& place = "Pyongyang",
                         v1::Meeting::Outcome outcome =
                             v1::Meeting::OUTCOME_UNSPECIFIED,
                         std::vector<std::string> source = {"JPN"},
                         std::vector<std::string> target = {"PRK"}) {
  v1::Event e = MakeBase(id, source, target, when);
  v1::Meeting* m = e.mutable_meeting();
  m->set_type(level == v1::Meeting::LEVEL_LEADERS ? v1::Meeting::TYPE_SUMMIT
                                                   : v1::Meeting::TYPE_TALKS);
  m->set_level(level);
  m->set_place(place);
  m->set_outcome(outcome);
  return e;
}

inline v1::Event Agreement(const std::string& id, When when,
                           const std::string& title,
                           std::vector<std::string> parties = {},
                           std::vector<std::string> source = {"JPN"},
                           std::vector<std::string> target = {"PRK"}) {
  v1::Event e = MakeBase(id, source, target, when);
  v1::Agreement* a = e.mutable_agreement();
  a->set_title(title);
  for (const std::string& p : parties) a->add_parties(p);
  a->add_commitments("normalise relations");
  a->add_commitments("address the abductions");
  return e;
}

inline v1::Event Resolution(const std::string& id, When when,
                            v1::ResolutionAction::Action action,
                            std::vector<std::string> source,
                            std::vector<std::string> target = {"PRK"},
                            const std::string& body = "UNHRC",
                            const std::string& symbol = "") {
  v1::Event e = MakeBase(id, source, target, when);
  v1::ResolutionAction* r = e.mutable_resolution();
  r->set_body(body);
  r->set_symbol(symbol);
  r->set_action(action);
  if (action == v1::ResolutionAction::ACTION_ADOPTED) {
    r->set_adoption(v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
  } else if (action == v1::ResolutionAction::ACTION_REJECTED ||
             action == v1::ResolutionAction::ACTION_VETOED) {
    r->set_adoption(v1::ResolutionAction::ADOPTION_RECORDED_VOTE);
    r->mutable_votes()->set_yes(10);
    r->mutable_votes()->set_no(20);
    r->mutable_votes()->set_abstain(5);
  }
  return e;
}

inline v1::Event Statement(const std::string& id, When when,
                           v1::Statement::Stance stance,
                           std::vector<std::string> source = {"PRK"},
                           std::vector<std::string> target = {"JPN"}) {
  v1::Event e = MakeBase(id, source, target, when);
  v1::Statement* s = e.mutable_statement();
  s->set_speaker("Foreign Ministry spokesperson");
  s->set_channel("KCNA");
  s->set_stance(stance);
  s->set_quote("Quote " + id);
  return e;
}

inline v1::Event Sanction(const std::string& id, When when,
                          v1::Sanction::Action action,
                          std::initializer_list<std::string> measures,
                          std::vector<std::string> source = {"JPN"},
                          std::vector<std::string> target = {"PRK"}) {
  v1::Event e = MakeBase(id, source, target, when);
  v1::Sanction* s = e.mutable_sanction();
  s->set_action(action);
  for (const std::string& m : measures) s->add_measures(m);
  s->set_legal_basis("Foreign Exchange Act (" + id + ")");
  return e;
}

inline v1::Event Military(const std::string& id, When when,
                          v1::MilitaryAction::Type type,
                          std::vector<std::string> source = {"PRK"},
                          std::vector<std::string> target = {"JPN"}) {
  v1::Event e = MakeBase(id, source, target, when);
  e.mutable_military()->set_type(type);
  e.mutable_military()->set_system("ballistic missile");
  return e;
}

inline v1::Event Humanitarian(const std::string& id, When when,
                              v1::HumanitarianDevelopment::Type type,
                              std::vector<std::string> source = {"PRK"},
                              std::vector<std::string> target = {"JPN"}) {
  v1::Event e = MakeBase(id, source, target, when);
  e.mutable_humanitarian()->set_type(type);
  e.mutable_humanitarian()->set_people(5);
  return e;
}

inline v1::Event Policy(const std::string& id, When when,
                        const std::string& policy,
                        v1::PolicyChange::Direction direction,
                        std::vector<std::string> source = {"JPN"},
                        std::vector<std::string> target = {"PRK"}) {
  v1::Event e = MakeBase(id, source, target, when);
  e.mutable_policy_change()->set_policy(policy);
  e.mutable_policy_change()->set_direction(direction);
  return e;
}

// A correction `id` amending `corrects` to `amended`.
inline v1::Event Amend(const std::string& id, const std::string& corrects,
                       const v1::Event& amended) {
  v1::Event e = MakeBase(id, {amended.source().begin(), amended.source().end()},
                         {amended.target().begin(), amended.target().end()},
                         When{2020, 1, 1});
  v1::Correction* c = e.mutable_correction();
  c->set_corrects_event_id(corrects);
  c->set_action(v1::Correction::ACTION_AMEND);
  c->set_reason("the source was misread");
  *c->mutable_amended() = amended;
  return e;
}

// A correction `id` retracting `corrects`.
inline v1::Event Retract(const std::string& id, const std::string& corrects) {
  v1::Event e = MakeBase(id, {"JPN"}, {"PRK"}, When{2020, 1, 1});
  v1::Correction* c = e.mutable_correction();
  c->set_corrects_event_id(corrects);
  c->set_action(v1::Correction::ACTION_RETRACT);
  c->set_reason("it did not happen");
  return e;
}

// `events` as a log: positions 1, 2, 3, ... in the given order.
inline std::vector<v1::RecordedEvent> AsLog(
    const std::vector<v1::Event>& events) {
  std::vector<v1::RecordedEvent> log;
  for (size_t i = 0; i < events.size(); ++i) {
    v1::RecordedEvent recorded;
    *recorded.mutable_event() = events[i];
    recorded.set_position(i + 1);
    recorded.set_stream("test");
    recorded.mutable_recorded_at()->set_seconds(1'600'000'000 +
                                                static_cast<int64_t>(i));
    log.push_back(std::move(recorded));
  }
  return log;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_MODEL_BUILDERS_H_
