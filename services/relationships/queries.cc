#include "services/relationships/queries.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "proto/event_kind.h"
#include "proto/rpc_status.h"
#include "services/model/goldstein.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "services/relationships/actor_timeline.h"
#include "services/relationships/as_of.h"
#include "services/relationships/page_token.h"
#include "services/relationships/projector.h"
#include "services/model/validation.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

namespace format = storage::format;
using storage::Direction;
using storage::ProjectionFamily;
using Violations = std::vector<rpc::FieldViolation>;

constexpr absl::string_view kKinds[] = {
    "meeting",  "agreement", "resolution",   "statement",
    "sanction", "military",  "humanitarian", "policy_change"};

int PageSize(int32_t page_size, Violations* violations) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size < 0 || page_size > kMaxPageSize) {
    violations->push_back(
        {"page_size", absl::StrCat("must be 0 (the default, ", kDefaultPageSize,
                                   ") through ", kMaxPageSize, ", got ",
                                   page_size)});
  }
  return page_size;
}

void CheckActor(absl::string_view actor, absl::string_view field,
                Violations* violations) {
  if (!IsKnownActor(actor)) {
    violations->push_back(
        {std::string(field),
         absl::StrCat("\"", actor,
                      "\" is not a known actor code (ISO 3166-1 alpha-3 "
                      "such as \"JPN\", or an organisation such as \"UN\")")});
  }
}

// The dyad in `field`, canonical; a violation when malformed.
std::string CheckDyad(absl::string_view dyad, absl::string_view field,
                      Violations* violations) {
  absl::StatusOr<std::string> canonical = CanonicalDyad(dyad, field);
  if (canonical.ok()) return *std::move(canonical);
  for (rpc::FieldViolation& v : rpc::FieldViolations(canonical.status())) {
    violations->push_back(std::move(v));
  }
  return std::string();
}

// The stored record of `dyad` (services/relationships/projector.h): its
// state without the series, and its current index; NOT_FOUND when the
// dyad has no events.
absl::StatusOr<v1::GetRelationshipResponse> ReadRecord(
    const storage::EventLog& log, const std::string& dyad) {
  ASSIGN_OR_RETURN(const std::string stored,
                   log.ReadProjection(ProjectionFamily::kRelationships, dyad));
  return ParseStoredResponse(stored, dyad);
}

}  // namespace

absl::StatusOr<std::string> CanonicalDyad(absl::string_view dyad,
                                          absl::string_view field) {
  if (dyad.empty()) return rpc::InvalidArgument({{std::string(field), "required"}});
  std::vector<absl::string_view> members = absl::StrSplit(dyad, '-');
  if (members.size() != 2 || members[0].empty() || members[1].empty()) {
    return rpc::InvalidArgument(
        {{std::string(field),
          absl::StrCat("must be two actor codes joined by '-' (\"JPN-PRK\"), "
                       "got \"",
                       dyad, "\"")}});
  }
  Violations violations;
  CheckActor(members[0], field, &violations);
  CheckActor(members[1], field, &violations);
  if (violations.empty() && members[0] == members[1]) {
    violations.push_back({std::string(field),
                          absl::StrCat("names ", members[0],
                                       " twice; a dyad is two different actors")});
  }
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  if (members[1] < members[0]) std::swap(members[0], members[1]);
  return absl::StrCat(members[0], "-", members[1]);
}

absl::StatusOr<v1::GetRelationshipResponse> RelationshipQueries::GetRelationship(
    const v1::GetRelationshipRequest& request) const {
  ASSIGN_OR_RETURN(const SerializedResponse bytes,
                   SerializedRelationship(request));
  v1::GetRelationshipResponse response;
  if (!response.ParseFromString(*bytes.state) ||
      !response.MergeFromString(bytes.rest)) {
    return absl::InternalError("a GetRelationshipResponse does not parse");
  }
  return response;
}

absl::StatusOr<SerializedResponse> RelationshipQueries::SerializedRelationship(
    const v1::GetRelationshipRequest& request) const {
  Violations violations;
  const std::string dyad = CheckDyad(request.dyad(), "dyad", &violations);
  const uint64_t head = log_->GetHead().position;
  if (request.as_of_case() == v1::GetRelationshipRequest::kAsOfPosition &&
      request.as_of_position() > head) {
    violations.push_back(
        {"as_of_position", absl::StrCat("must be at most the head position ",
                                        head, ", got ",
                                        request.as_of_position())});
  }
  if (request.as_of_case() == v1::GetRelationshipRequest::kAsOfDate) {
    ValidateDate(request.as_of_date(), "as_of_date", &violations);
  }
  if (!violations.empty()) return rpc::InvalidArgument(violations);

  v1::GetRelationshipResponse response;
  switch (request.as_of_case()) {
    case v1::GetRelationshipRequest::kAsOfPosition: {
      ASSIGN_OR_RETURN(*response.mutable_state(),
                       StateAtPosition(*log_, dyad, request.as_of_position()));
      *response.mutable_index() = CurrentIndexOf(response.state());
      response.set_head(request.as_of_position());
      break;
    }
    case v1::GetRelationshipRequest::kAsOfDate: {
      const v1::Date& date = request.as_of_date();
      ASSIGN_OR_RETURN(StateByDay by_day,
                       StateAtDate(*log_, dyad, LastDayOf(date)));
      *response.mutable_state() = std::move(by_day.state);
      response.set_uncertain_event_count(by_day.uncertain);
      const YearMonth end{date.year(), date.month() == 0 ? 12 : date.month()};
      *response.mutable_index() =
          ToIndex(TrailingIndex(response.state(), end), end);
      response.set_head(head);
      break;
    }
    default: {
      // The head was read before the state: the state includes at least
      // this much. The stored bytes are the response less its head
      // (ReadStoredRelationship); a dyad without events has none stored.
      v1::GetRelationshipResponse tail;
      tail.set_head(head);
      SerializedResponse answer;
      answer.rest = tail.SerializeAsString();
      RelationshipAnswers::Miss miss;
      if (answers_ != nullptr) answer.state = answers_->Find(dyad, &miss);
      if (answer.state != nullptr) return answer;
      absl::StatusOr<std::string> stored = ReadStoredRelationship(*log_, dyad);
      if (stored.ok()) {
        answer.state =
            answers_ != nullptr
                ? answers_->Keep(dyad, miss, head, *std::move(stored))
                : std::make_shared<const std::string>(*std::move(stored));
        return answer;
      }
      if (!absl::IsNotFound(stored.status())) return stored.status();
      response.mutable_state()->set_dyad(dyad);
      *response.mutable_index() = CurrentIndexOf(response.state());
      response.set_head(head);
      break;
    }
  }
  return SerializedResponse{
      std::make_shared<const std::string>(response.SerializeAsString()), ""};
}

absl::StatusOr<v1::ListRelationshipsResponse>
RelationshipQueries::ListRelationships(
    const v1::ListRelationshipsRequest& request) const {
  Violations violations;
  const int page_size = PageSize(request.page_size(), &violations);
  if (!request.actor().empty()) CheckActor(request.actor(), "actor", &violations);
  char tag = 0;
  switch (request.order_by()) {
    case v1::ListRelationshipsRequest::ORDER_BY_UNSPECIFIED:
    case v1::ListRelationshipsRequest::ORDER_BY_RECENT_ACTIVITY:
      tag = format::kByActivityTag;
      break;
    case v1::ListRelationshipsRequest::ORDER_BY_INDEX:
      tag = format::kByIndexTag;
      break;
    default:
      violations.push_back(
          {"order_by", absl::StrCat("unknown order ",
                                    static_cast<int>(request.order_by()))});
  }
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  const std::string prefix(1, tag);
  const uint64_t fingerprint = QueryFingerprint(request);
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken(request.page_token(), fingerprint, prefix));

  const Direction direction =
      request.ascending() ? Direction::kForward : Direction::kBackward;
  // Resume strictly after the token's key. Keys of one tag differ in
  // length (dyads do), so "just after" is key + 0x00 forward; backward the
  // token's own key is skipped below.
  std::string start;
  if (!after.empty()) {
    start = direction == Direction::kForward ? after + std::string(1, '\0')
                                             : after;
  }
  v1::ListRelationshipsResponse response;
  absl::Status error;
  int examined = 0;
  std::string last_key;
  RETURN_IF_ERROR(log_->ScanProjection(
      ProjectionFamily::kRelationships, prefix, start, direction,
      [&](absl::string_view key, absl::string_view) {
        if (key == after) return true;
        if (response.relationships_size() == page_size ||
            examined == kMaxExaminedPerPage) {
          response.set_next_page_token(EncodePageToken(fingerprint, last_key));
          return false;
        }
        ++examined;
        last_key = std::string(key);
        const std::string dyad(format::DyadOfOrderKey(key));
        if (!request.actor().empty() && !DyadHasActor(dyad, request.actor())) {
          return true;
        }
        // The record has everything a summary shows, and the index.
        absl::StatusOr<v1::GetRelationshipResponse> record =
            ReadRecord(*log_, dyad);
        if (absl::IsNotFound(record.status())) return true;  // gone since
        if (!record.ok()) {
          error = record.status();
          return false;
        }
        const v1::RelationshipState* state = &record->state();
        v1::RelationshipSummary* summary = response.add_relationships();
        summary->set_dyad(dyad);
        summary->set_event_count(state->event_count());
        *summary->mutable_counts() = state->counts();
        *summary->mutable_first_event() = state->first_event();
        *summary->mutable_last_event() = state->last_event();
        if (state->has_last_meeting()) {
          *summary->mutable_last_meeting() = state->last_meeting();
        }
        *summary->mutable_index() = record->index();
        return true;
      }));
  RETURN_IF_ERROR(error);
  return response;
}

absl::StatusOr<v1::QueryTimelineResponse> RelationshipQueries::QueryTimeline(
    const v1::QueryTimelineRequest& request) const {
  Violations violations;
  const int page_size = PageSize(request.page_size(), &violations);
  std::string subject;
  if (!request.dyad().empty() && !request.actor().empty()) {
    violations.push_back(
        {"actor", "give either dyad or actor, not both (neither: the whole log)"});
  } else if (!request.dyad().empty()) {
    subject = CheckDyad(request.dyad(), "dyad", &violations);
  } else if (!request.actor().empty()) {
    CheckActor(request.actor(), "actor", &violations);
    subject = request.actor();
  }
  absl::flat_hash_set<std::string> kinds;
  for (int i = 0; i < request.kinds_size(); ++i) {
    const std::string& kind = request.kinds(i);
    if (std::find(std::begin(kKinds), std::end(kKinds), kind) ==
        std::end(kKinds)) {
      violations.push_back(
          {absl::StrCat("kinds[", i, "]"),
           absl::StrCat("\"", kind, "\" is not a kind; one of ",
                        absl::StrJoin(kKinds, ", "))});
    }
    kinds.insert(kind);
  }
  const absl::flat_hash_set<std::string> tags(request.tags().begin(),
                                              request.tags().end());
  // The range's days, inclusive.
  DayKey low = 0;
  DayKey high = std::numeric_limits<DayKey>::max();
  bool from_ok = true, to_ok = true;
  if (request.has_from()) {
    from_ok = ValidateDate(request.from(), "from", &violations);
    if (from_ok) low = FirstDayOf(request.from());
  }
  if (request.has_to()) {
    to_ok = ValidateDate(request.to(), "to", &violations);
    if (to_ok) high = LastDayOf(request.to());
  }
  if (request.has_from() && request.has_to() && from_ok && to_ok && high < low) {
    violations.push_back(
        {"to", "is before from; the range must not be reversed (use "
               "descending to read newest first)"});
  }
  const std::string prefix = format::TimelinePrefix(subject);
  const uint64_t fingerprint = QueryFingerprint(request);
  if (!violations.empty()) return rpc::InvalidArgument(violations);
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken(request.page_token(), fingerprint, prefix));
  const std::string text = absl::AsciiStrToLower(request.text());

  // Entries are keyed by their first day: those within the range start
  // in it, and those overlapping it start at most the subject's longest
  // span before it.
  DayKey scan_low = low;
  if (request.include_overlapping() && low > 0) {
    ASSIGN_OR_RETURN(const uint32_t span, LongestSpan(*log_, subject));
    scan_low = DaysBefore(low, span);
  }
  const std::string lower = format::TimelineKey(subject, scan_low, 0, 0);
  const std::string upper =
      format::TimelineKey(subject, high, std::numeric_limits<uint32_t>::max(),
                          std::numeric_limits<uint64_t>::max());
  const Direction direction =
      request.descending() ? Direction::kBackward : Direction::kForward;
  std::string start;
  if (direction == Direction::kForward) {
    start = after.empty() ? lower : after + std::string(1, '\0');
  } else {
    start = after.empty() ? upper : after;
  }

  v1::QueryTimelineResponse response;
  absl::Status error;
  int examined = 0;
  std::string last_key;
  // Entries that pass the kind filter wait here until there are as many as
  // the page still needs (or the scan ends); their events are then read in
  // one batch (EventLog::GetEventsAt) and filtered in order. Every entry
  // examined is still taken into the page before the next one is looked
  // at, so the page token means what it did.
  struct Candidate {
    uint64_t position = 0;  // of the entry (the original event)
    uint64_t holder = 0;    // of its content (the latest amendment)
    bool overlapping = false;
  };
  std::vector<Candidate> candidates;
  auto flush = [&]() -> absl::Status {
    if (candidates.empty()) return absl::OkStatus();
    std::vector<uint64_t> holders;
    holders.reserve(candidates.size());
    for (const Candidate& c : candidates) holders.push_back(c.holder);
    ASSIGN_OR_RETURN(std::vector<v1::RecordedEvent> read,
                     log_->GetEventsAt(holders));
    for (size_t i = 0; i < candidates.size(); ++i) {
      const uint64_t position = candidates[i].position;
      const uint64_t holder = candidates[i].holder;
      const v1::RecordedEvent& recorded = read[i];
      v1::Event content = ContentOf(recorded);
      if (!kinds.empty() && !kinds.contains(KindName(content))) continue;
      if (!tags.empty() &&
          std::none_of(content.tags().begin(), content.tags().end(),
                       [&tags](const std::string& t) { return tags.contains(t); })) {
        continue;
      }
      if (!text.empty() &&
          !absl::StrContains(absl::AsciiStrToLower(content.summary()), text)) {
        continue;
      }
      v1::TimelineEntry* entry = response.add_entries();
      entry->set_position(position);
      if (holder == position) {
        entry->set_stream(recorded.stream());
      } else {
        ASSIGN_OR_RETURN(const v1::RecordedEvent original,
                         log_->GetEventAt(position));
        entry->set_stream(original.stream());
        entry->set_amended_at(holder);
      }
      entry->set_goldstein_tenths(GoldsteinTenths(content));
      entry->set_overlapping(candidates[i].overlapping);
      *entry->mutable_event() = std::move(content);
    }
    candidates.clear();
    return absl::OkStatus();
  };
  auto visit = [&](absl::string_view key, absl::string_view value) -> absl::Status {
    uint32_t first = 0, last = 0;
    uint64_t position = 0;
    if (!format::ParseTimelineSuffix(key.substr(prefix.size()), &first, &last,
                                     &position)) {
      return absl::DataLossError("malformed timeline entry");
    }
    const bool within = first >= low && last <= high;
    if (!within && !(request.include_overlapping() && last >= low)) {
      return absl::OkStatus();
    }
    uint64_t holder = 0;
    uint8_t kind = 0;
    if (!format::ParseTimelineValue(value, &holder, &kind)) {
      return absl::DataLossError("malformed timeline entry");
    }
    // The kind is in the entry: no need to read an event of another kind.
    if (!kinds.empty() &&
        !kinds.contains(KindNameOf(static_cast<v1::Event::WhatCase>(kind)))) {
      return absl::OkStatus();
    }
    candidates.push_back({position, holder, !within});
    if (response.entries_size() + static_cast<int>(candidates.size()) ==
        page_size) {
      return flush();
    }
    return absl::OkStatus();
  };
  const auto scan = [&](const std::function<bool(absl::string_view key,
                                                 absl::string_view value)>&
                            visit_entry) {
    if (!request.actor().empty()) {
      return ScanActorTimeline(*log_, subject, start, direction, visit_entry);
    }
    return log_->ScanProjection(ProjectionFamily::kDyadTimeline, prefix, start,
                                direction, visit_entry);
  };
  RETURN_IF_ERROR(scan(
      [&](absl::string_view key, absl::string_view value) {
        if (key == after) return true;
        if (key < lower || key > upper) return false;
        if (response.entries_size() == page_size ||
            examined == kMaxExaminedPerPage) {
          response.set_next_page_token(EncodePageToken(fingerprint, last_key));
          return false;
        }
        ++examined;
        last_key = std::string(key);
        error = visit(key, value);
        return error.ok();
      }));
  RETURN_IF_ERROR(error);
  RETURN_IF_ERROR(flush());
  return response;
}

}  // namespace annals::services
