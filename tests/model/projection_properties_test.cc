// Properties of the relationship projection over random events of every
// kind (services/model/projection.h): any order gives byte-identical
// state, corrections equal writing the events corrected, and Remove with
// the refill it names equals BuildState without the event.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annals/v1/relationship.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "services/model/validation.h"
#include "tests/model/builders.h"
#include "tests/testing/events.h"

namespace annals::services {
namespace {

using ::annals::testing::AsLog;
using ::annals::testing::When;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using R = v1::ResolutionAction;

// ---------------------------------------------------------------------------
// Order insensitivity over random events of every kind

class RandomEvents {
 public:
  explicit RandomEvents(uint32_t seed) : rng_(seed) {}

  v1::Event Next(int n) {
    const std::string id = absl::StrCat("ev-", 1000 + n);
    std::vector<std::string> actors = {"JPN", "PRK", "USA", "EU"};
    std::shuffle(actors.begin(), actors.end(), rng_);
    std::vector<std::string> source, target;
    const int shape = Uniform(0, 3);
    if (shape == 0) {  // Two sources, no target: their pair.
      source = {actors[0], actors[1]};
    } else if (shape == 1) {
      source = {actors[0]};
      target = {actors[1], actors[2]};
    } else {
      source = {actors[0]};
      target = {actors[1]};
    }
    // Coarse dates so that ties on the sort key are frequent.
    When when{Uniform(2016, 2019), 0, 0};
    if (Uniform(0, 5) > 0) when.month = Uniform(1, 12);
    if (when.month > 0 && Uniform(0, 2) > 0) when.day = Uniform(1, 3);
    v1::Event e = testing::MakeBase(id, source, target, when);
    // Some ranges, at the start's precision: intervals that share a first
    // day and differ in their last.
    if (Uniform(0, 4) == 0) {
      v1::Date* end = e.mutable_occurred()->mutable_end();
      *end = e.occurred().start();
      if (when.day > 0) {
        end->set_day(when.day + Uniform(0, 2));
      } else if (when.month > 0) {
        end->set_month(std::min(12, when.month + Uniform(0, 1)));
      } else {
        end->set_year(when.year + Uniform(0, 1));
      }
    }
    if (Uniform(0, 3) == 0) {
      const char* codes[] = {"036", "042", "057", "112", "163", "1823", "36",
                             "0369", "190", "2999"};
      e.set_cameo_code(codes[Uniform(0, 9)]);
    }
    const char* tags[] = {"abductions", "denuclearization", "human-rights",
                          "sanctions"};
    for (const char* tag : tags) {
      if (Uniform(0, 3) == 0) e.add_tags(tag);
    }
    const char* titles[] = {"Pyongyang Declaration", "Stockholm Agreement"};
    const char* measures[] = {"port entry ban", "remittance limits",
                              "export ban"};
    // Statements twice as likely (cases 3 and 8), so that the bound on
    // recent statements is reached.
    switch (Uniform(0, 8)) {
      case 0: {
        v1::Meeting* m = e.mutable_meeting();
        m->set_type(static_cast<v1::Meeting::Type>(Uniform(1, 3)));
        m->set_level(static_cast<v1::Meeting::Level>(Uniform(1, 4)));
        m->set_format(static_cast<v1::Meeting::Format>(Uniform(0, 6)));
        m->set_place(absl::StrCat("Place ", Uniform(1, 3)));
        m->set_outcome(static_cast<v1::Meeting::Outcome>(Uniform(0, 5)));
        break;
      }
      case 1: {
        v1::Agreement* a = e.mutable_agreement();
        a->set_title(titles[Uniform(0, 1)]);
        a->add_commitments(absl::StrCat("commitment ", Uniform(1, 5)));
        break;
      }
      case 2: {
        v1::ResolutionAction* r = e.mutable_resolution();
        r->set_body(Uniform(0, 1) == 0 ? "UNHRC" : "UNGA");
        if (Uniform(0, 1) == 0) r->set_symbol(absl::StrCat("L.", Uniform(1, 3)));
        const auto action = static_cast<R::Action>(Uniform(1, 6));
        r->set_action(action);
        if (action == R::ACTION_ADOPTED && Uniform(0, 1) == 0) {
          r->set_adoption(R::ADOPTION_WITHOUT_VOTE);
        } else if (action >= R::ACTION_ADOPTED) {
          r->set_adoption(R::ADOPTION_RECORDED_VOTE);
          r->mutable_votes()->set_yes(Uniform(1, 30));
          r->mutable_votes()->set_no(Uniform(0, 30));
        }
        if (Uniform(0, 1) == 0) r->add_sponsors("EU");
        break;
      }
      case 3:
      case 8: {
        v1::Statement* s = e.mutable_statement();
        s->set_speaker(absl::StrCat("Speaker ", Uniform(1, 3)));
        s->set_stance(static_cast<v1::Statement::Stance>(Uniform(1, 5)));
        break;
      }
      case 4: {
        v1::Sanction* s = e.mutable_sanction();
        s->set_action(static_cast<v1::Sanction::Action>(Uniform(1, 4)));
        s->add_measures(measures[Uniform(0, 2)]);
        if (Uniform(0, 1) == 0) s->set_legal_basis("Act");
        break;
      }
      case 5:
        e.mutable_military()->set_type(
            static_cast<v1::MilitaryAction::Type>(Uniform(1, 4)));
        break;
      case 6:
        e.mutable_humanitarian()->set_type(
            static_cast<v1::HumanitarianDevelopment::Type>(Uniform(1, 5)));
        break;
      case 7:
        e.mutable_policy_change()->set_policy(
            Uniform(0, 2) == 0 ? "Bluebook" : titles[Uniform(0, 1)]);
        e.mutable_policy_change()->set_direction(
            static_cast<v1::PolicyChange::Direction>(Uniform(1, 3)));
        break;
    }
    return e;
  }

  std::mt19937& rng() { return rng_; }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  std::mt19937 rng_;
};

std::vector<v1::Event> MakeRandomEvents(uint32_t seed, int count) {
  RandomEvents random(seed);
  std::vector<v1::Event> events;
  for (int i = 0; i < count; ++i) events.push_back(random.Next(i));
  return events;
}

std::set<std::string> AllDyads(const std::vector<v1::Event>& events) {
  std::set<std::string> dyads;
  for (const auto& e : events) {
    for (const auto& d : DyadsOf(e)) dyads.insert(d);
  }
  return dyads;
}

TEST(OrderInsensitivity, RandomEventsAreValid) {
  for (const v1::Event& e : MakeRandomEvents(20240611, 300)) {
    std::vector<rpc::FieldViolation> violations;
    ValidateEvent(e, "event", &violations);
    EXPECT_THAT(violations, IsEmpty()) << e.DebugString();
  }
}

TEST(OrderInsensitivity, TwentyShufflesGiveByteIdenticalState) {
  std::vector<v1::Event> events = MakeRandomEvents(20240611, 300);
  const std::set<std::string> dyads = AllDyads(events);
  ASSERT_EQ(dyads.size(), 6u);

  std::map<std::string, std::string> expected;
  for (const std::string& dyad : dyads) {
    expected[dyad] = SerializeState(BuildState(dyad, events));
  }
  // The random events exercise every part of the state somewhere, so that
  // a field kept order-dependently would show.
  int suspended = 0, in_force = 0, lifted = 0, full_statements = 0,
      decided = 0;
  for (const std::string& dyad : dyads) {
    const v1::RelationshipState state = BuildState(dyad, events);
    for (const auto& a : state.agreements()) suspended += a.has_suspended_by();
    for (const auto& s : state.sanctions()) (s.in_force() ? in_force : lifted)++;
    full_statements += state.recent_statements_size() == kRecentStatements;
    for (const auto& r : state.resolutions()) decided += r.has_decided_by();
  }
  EXPECT_GT(suspended, 0);
  EXPECT_GT(in_force, 0);
  EXPECT_GT(lifted, 0);
  EXPECT_GT(full_statements, 0);
  EXPECT_GT(decided, 0);

  for (int round = 0; round < 20; ++round) {
    std::mt19937 rng(round);
    std::shuffle(events.begin(), events.end(), rng);
    for (const std::string& dyad : dyads) {
      // Apply one by one in this order, as the writer does.
      v1::RelationshipState state;
      state.set_dyad(dyad);
      for (const v1::Event& e : events) {
        const auto touched = DyadsOf(e);
        if (std::find(touched.begin(), touched.end(), dyad) != touched.end()) {
          Apply(e, &state);
        }
      }
      ASSERT_EQ(SerializeState(state), expected[dyad])
          << "dyad " << dyad << ", shuffle " << round;
    }
  }
}

TEST(OrderInsensitivity, IncrementalStateEqualsRebuildFromTheLog) {
  // The writer applies each event to each dyad it touches as it is
  // appended; a rebuild replays the log. Same bytes.
  const std::vector<v1::Event> events = MakeRandomEvents(7, 300);
  std::map<std::string, v1::RelationshipState> incremental;
  for (const v1::Event& e : events) {
    for (const std::string& dyad : DyadsOf(e)) {
      v1::RelationshipState& state = incremental[dyad];
      state.set_dyad(dyad);
      Apply(e, &state);
    }
  }
  const std::vector<v1::Event> effective = EffectiveEvents(AsLog(events));
  ASSERT_EQ(effective.size(), events.size());
  for (const auto& [dyad, state] : incremental) {
    EXPECT_EQ(SerializeState(state), SerializeState(BuildState(dyad, effective)))
        << dyad;
  }
}

TEST(OrderInsensitivity, CorrectionsOfRandomEventsEqualWritingThemCorrected) {
  std::vector<v1::Event> events = MakeRandomEvents(99, 120);
  RandomEvents random(100);
  std::vector<v1::Event> log = events;
  std::vector<v1::Event> corrected = events;
  // Amend every 5th event to another random event (possibly other kind and
  // other actors), retract every 7th.
  for (size_t i = 0; i < events.size(); ++i) {
    if (i % 7 == 3) {
      log.push_back(testing::Retract(absl::StrCat("r-", i), events[i].id()));
      corrected[i].clear_id();  // Marked: dropped below.
    } else if (i % 5 == 1) {
      v1::Event replacement = random.Next(static_cast<int>(i));
      replacement.set_id(events[i].id());
      log.push_back(testing::Amend(absl::StrCat("a-", i), events[i].id(),
                                   replacement));
      corrected[i] = replacement;
    }
  }
  corrected.erase(std::remove_if(corrected.begin(), corrected.end(),
                                 [](const v1::Event& e) { return e.id().empty(); }),
                  corrected.end());
  std::shuffle(corrected.begin(), corrected.end(), random.rng());
  const std::vector<v1::Event> effective = EffectiveEvents(AsLog(log));
  std::set<std::string> dyads = AllDyads(events);
  for (const auto& d : AllDyads(corrected)) dyads.insert(d);
  for (const std::string& dyad : dyads) {
    EXPECT_EQ(SerializeState(BuildState(dyad, effective)),
              SerializeState(BuildState(dyad, corrected)))
        << dyad;
  }
}

// ---------------------------------------------------------------------------
// Remove, and refilling what it names (the contract of Refill)

using Key = std::tuple<DayInterval, std::string>;
Key KeyOfEvent(const v1::Event& e) { return {IntervalOf(e.occurred()), e.id()}; }

// Refills `state` as Refill says, choosing the events from `rest` (the
// dyad's remaining events) by brute force.
void RefillFrom(const Refill& refill, std::vector<v1::Event> rest,
                v1::RelationshipState* state) {
  std::sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) {
    return KeyOfEvent(a) < KeyOfEvent(b);
  });
  auto date = [](const v1::Event& e) { return IntervalOf(e.occurred()); };
  // The greatest `n` events (by key) for which `pred` holds.
  auto greatest = [&rest](size_t n, auto pred) {
    std::vector<const v1::Event*> out;
    for (auto it = rest.rbegin(); it != rest.rend() && out.size() < n; ++it) {
      if (pred(*it)) out.push_back(&*it);
    }
    return out;
  };
  if (!rest.empty() && refill.first_event) {
    for (const auto& e : rest) {
      if (date(e) == date(rest.front())) ApplyPart(StatePart::kEnds, e, state);
    }
  }
  if (!rest.empty() && refill.last_event) {
    for (const auto& e : rest) {
      if (date(e) == date(rest.back())) ApplyPart(StatePart::kEnds, e, state);
    }
  }
  if (refill.last_meeting) {
    for (const auto* e : greatest(1, [](const v1::Event& e) {
           return e.has_meeting() &&
                  e.meeting().outcome() != v1::Meeting::OUTCOME_PLANNED;
         })) {
      ApplyPart(StatePart::kLastMeeting, *e, state);
    }
  }
  for (const std::string& policy : refill.policies) {
    for (bool hardening : {false, true}) {
      for (const auto* e : greatest(1, [&](const v1::Event& e) {
             return e.has_policy_change() &&
                    e.policy_change().policy() == policy &&
                    (!hardening || e.policy_change().direction() ==
                                       v1::PolicyChange::DIRECTION_HARDENING);
           })) {
        ApplyPart(StatePart::kPolicies, *e, state);
      }
    }
  }
  if (refill.agreements) {
    for (const auto* e : greatest(kMaxAgreements, [](const v1::Event& e) {
           return e.has_agreement();
         })) {
      ApplyPart(StatePart::kAgreements, *e, state);
    }
  }
  if (refill.statements) {
    for (const auto* e : greatest(kRecentStatements, [](const v1::Event& e) {
           return e.has_statement();
         })) {
      ApplyPart(StatePart::kStatements, *e, state);
    }
  }
  for (const auto& [imposer, measure] : refill.sanctions) {
    for (const auto* e : greatest(1, [&](const v1::Event& e) {
           const auto& m = e.sanction().measures();
           const auto& src = e.source();
           return e.has_sanction() &&
                  std::find(m.begin(), m.end(), measure) != m.end() &&
                  std::find(src.begin(), src.end(), imposer) != src.end();
         })) {
      ApplyPart(StatePart::kSanctions, *e, state);
    }
  }
  for (const auto& [body, year] : refill.resolutions) {
    for (const auto& e : rest) {
      if (e.has_resolution() && e.resolution().body() == body &&
          e.occurred().start().year() == year) {
        ApplyPart(StatePart::kResolutions, e, state);
      }
    }
  }
}

bool Touches(const v1::Event& e, const std::string& dyad) {
  const auto dyads = DyadsOf(e);
  return std::find(dyads.begin(), dyads.end(), dyad) != dyads.end();
}

TEST(Remove, RefilledAsToldItEqualsBuildStateWithoutTheEvent) {
  const std::vector<v1::Event> events = MakeRandomEvents(20021017, 300);
  RandomEvents random(1017);
  std::map<std::string, int> refilled;  // which refills were exercised
  for (const std::string& dyad : AllDyads(events)) {
    std::vector<v1::Event> mine;
    for (const v1::Event& e : events) {
      if (Touches(e, dyad)) mine.push_back(e);
    }
    const v1::RelationshipState full = BuildState(dyad, mine);
    for (size_t i = 0; i < mine.size(); ++i) {
      // Retract event i, or amend it to another random event.
      std::vector<v1::Event> rest = mine;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      v1::RelationshipState state = full;
      const Refill refill = Remove(mine[i], &state);
      if (i % 2 == 1) {
        v1::Event amended = random.Next(static_cast<int>(i));
        amended.set_id(mine[i].id());
        if (Touches(amended, dyad)) {
          Apply(amended, &state);
          rest.push_back(amended);
        }
      }
      RefillFrom(refill, rest, &state);
      ASSERT_EQ(SerializeState(state), SerializeState(BuildState(dyad, rest)))
          << dyad << ", event " << mine[i].DebugString();
      refilled["first"] += refill.first_event;
      refilled["last"] += refill.last_event;
      refilled["meeting"] += refill.last_meeting;
      refilled["agreements"] += refill.agreements;
      refilled["statements"] += refill.statements;
      refilled["sanctions"] += !refill.sanctions.empty();
      refilled["policies"] += !refill.policies.empty();
      refilled["resolutions"] += !refill.resolutions.empty();
    }
  }
  for (const auto& [part, times] : refilled) {
    EXPECT_GT(times, 0) << part << " was never refilled";
  }
  EXPECT_EQ(refilled.size(), 8u);
}

TEST(Remove, WhatTheStateDidNotKeepNeedsNoRefill) {
  using testing::Agreement;
  using testing::Statement;
  std::vector<v1::Event> events;
  for (int i = 0; i < kMaxAgreements + 1; ++i) {
    events.push_back(Agreement(absl::StrCat("a", 10 + i), When{2000 + i, 1, 1},
                               "Accord"));
  }
  for (int i = 0; i < kRecentStatements + 1; ++i) {
    events.push_back(Statement(absl::StrCat("s", 10 + i), When{2000 + i, 1, 1},
                               v1::Statement::STANCE_NEUTRAL));
  }
  events.push_back(testing::Military("first", When{1990},
                                     v1::MilitaryAction::TYPE_EXERCISE));
  v1::RelationshipState state = BuildState("JPN-PRK", events);
  // The oldest agreement and statement are not kept: taking them out only
  // subtracts.
  Refill refill = Remove(events[0], &state);
  EXPECT_FALSE(refill.agreements || refill.first_event || refill.last_event);
  refill = Remove(events[kMaxAgreements + 1], &state);
  EXPECT_FALSE(refill.statements || refill.first_event || refill.last_event);
  events.erase(events.begin() + kMaxAgreements + 1);
  events.erase(events.begin());
  EXPECT_EQ(SerializeState(state), SerializeState(BuildState("JPN-PRK", events)));
}

// A tag stays while another event carries it, and goes with the last.
TEST(Remove, ATagGoesWithTheLastEventThatCarriesIt) {
  v1::Event first = testing::MakeMeeting("first");
  first.clear_tags();
  first.add_tags("nuclear");
  v1::Event second = first;
  second.set_id("second");
  v1::RelationshipState state = BuildState("JPN-PRK", {first, second});
  Remove(first, &state);
  EXPECT_THAT(state.tags(), ElementsAre("nuclear"));
  ASSERT_EQ(state.tag_counts_size(), 1);
  EXPECT_EQ(state.tag_counts(0).count(), 1);
  Remove(second, &state);
  EXPECT_THAT(state.tags(), IsEmpty());
  EXPECT_EQ(state.tag_counts_size(), 0);
}

}  // namespace
}  // namespace annals::services
