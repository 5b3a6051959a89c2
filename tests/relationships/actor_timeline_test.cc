// An actor's timeline (QueryTimeline with `actor`) against the whole log's:
// the same entries as the whole log's that name the actor, in the same
// order, each once, whatever the page size, direction, range or
// corrections (services/relationships/actor_timeline.h).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/model/validation.h"
#include "services/relationships/queries.h"
#include "tests/relationships/seeded_log.h"
#include "tests/testing/status_matchers.h"

namespace annals::services {
namespace {

using ::annals::testing::GeneratedEvents;
using ::annals::testing::IsOk;
using ::annals::testing::MakeCorrection;
using ::annals::testing::MakeDate;
using ::annals::testing::ProjectedLog;

// Every entry of the query, following page tokens.
std::vector<v1::TimelineEntry> Entries(const RelationshipQueries& queries,
                                       v1::QueryTimelineRequest request) {
  std::vector<v1::TimelineEntry> entries;
  for (int pages = 0; pages < 10000; ++pages) {
    auto response = queries.QueryTimeline(request);
    EXPECT_THAT(response.status(), IsOk());
    if (!response.ok()) break;
    entries.insert(entries.end(), response->entries().begin(),
                   response->entries().end());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return entries;
}

bool Names(const v1::Event& event, const std::string& actor) {
  auto has = [&actor](const auto& list) {
    return std::find(list.begin(), list.end(), actor) != list.end();
  };
  return has(event.source()) || has(event.target()) ||
         has(event.resolution().sponsors());
}

// The positions of the entries of `request`; with `from_whole_log`, of the
// whole log's timeline (the actor cleared, pages of 1,000) whose content
// names the request's actor.
std::vector<uint64_t> Positions(const RelationshipQueries& queries,
                                v1::QueryTimelineRequest request,
                                bool from_whole_log = false) {
  const std::string actor = request.actor();
  if (from_whole_log) {
    request.clear_actor();
    request.set_page_size(1000);
  }
  std::vector<uint64_t> positions;
  for (const v1::TimelineEntry& entry : Entries(queries, request)) {
    if (!from_whole_log || Names(entry.event(), actor)) {
      positions.push_back(entry.position());
    }
  }
  return positions;
}

// A generated log with corrections, events of one actor alone, of two
// sources towards one target (two dyads) and corrections that move events
// between dyads.
std::vector<v1::Event> Events() {
  std::vector<v1::Event> events = GeneratedEvents(5, 6, 30, 0.1, 400);
  std::vector<v1::Event> more;
  for (size_t i = 0; i < events.size() && more.size() < 60; i += 7) {
    if (events[i].has_correction()) continue;
    v1::Event alone = events[i];
    alone.set_id(absl::StrCat("alone-", i));
    alone.clear_target();
    NormalizeEvent(&alone);
    more.push_back(alone);
    v1::Event two = events[i];
    two.set_id(absl::StrCat("two-", i));
    two.add_source(events[i].target(0) == "USA" ? "GBR" : "USA");
    NormalizeEvent(&two);
    more.push_back(two);
    v1::Event moved = two;
    moved.clear_source();
    moved.add_source("FRA");
    more.push_back(MakeCorrection(absl::StrCat("move-", i), two.id(),
                                  i % 14 == 0 ? &moved : nullptr));
  }
  events.insert(events.end(), more.begin(), more.end());
  return events;
}

TEST(ActorTimelineTest, IsTheWholeLogsEntriesThatNameTheActor) {
  const std::vector<v1::Event> events = Events();
  ProjectedLog log;
  log.Append(events, 25);
  const RelationshipQueries queries(&log.log());
  std::set<std::string> actors;
  for (const v1::Event& e : events) {
    actors.insert(e.source().begin(), e.source().end());
    actors.insert(e.target().begin(), e.target().end());
  }
  ASSERT_GT(actors.size(), 4u);
  size_t compared = 0;
  for (const std::string& actor : actors) {
    for (bool descending : {false, true}) {
      for (int page_size : {1, 3, 50}) {
        v1::QueryTimelineRequest request;
        request.set_actor(actor);
        request.set_descending(descending);
        request.set_page_size(page_size);
        const std::vector<uint64_t> want =
            Positions(queries, request, /*from_whole_log=*/true);
        EXPECT_EQ(Positions(queries, request), want)
            << actor << (descending ? " descending" : "") << " page "
            << page_size;
        compared += want.size();

        // A range, with the entries overlapping it, and a kind.
        *request.mutable_from() = MakeDate(2001, 3);
        *request.mutable_to() = MakeDate(2012);
        request.set_include_overlapping(true);
        request.add_kinds("meeting");
        EXPECT_EQ(Positions(queries, request),
                  Positions(queries, request, /*from_whole_log=*/true))
            << actor << " in a range";
      }
    }
  }
  EXPECT_GT(compared, 1000u);
}

}  // namespace
}  // namespace annals::services
