#include "services/relationships/as_of.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/model/projection.h"
#include "services/model/state_merge.h"
#include "services/relationships/projector.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

namespace format = storage::format;
using storage::Direction;
using storage::ProjectionFamily;

// The position an index or timeline entry's value starts with.
absl::StatusOr<uint64_t> ParsePosition(absl::string_view value) {
  uint64_t position = 0;
  uint8_t kind = 0;
  if (!format::ParseBigEndian64(value, &position) &&
      !format::ParseTimelineValue(value, &position, &kind)) {
    return absl::DataLossError("projection entry is not a position");
  }
  return position;
}

// Calls `visit` with the events at `positions`, in that order, read a
// batch at a time (EventLog::GetEventsAt): one batched lookup per batch,
// and memory for one batch, however many positions there are.
absl::Status ForEachEventAt(
    const storage::EventLog& log, const std::vector<uint64_t>& positions,
    const std::function<void(v1::RecordedEvent&)>& visit) {
  constexpr size_t kBatch = 256;
  for (size_t first = 0; first < positions.size(); first += kBatch) {
    const std::vector<uint64_t> batch(
        positions.begin() + first,
        positions.begin() + std::min(positions.size(), first + kBatch));
    ASSIGN_OR_RETURN(std::vector<v1::RecordedEvent> events,
                     log.GetEventsAt(batch));
    for (v1::RecordedEvent& event : events) visit(event);
  }
  return absl::OkStatus();
}

// The latest checkpoint of `dyad` at or before `position` (storage/
// format.h): its position, and the state it holds in `state`; 0 and a
// state of only `dyad` when there is none.
absl::StatusOr<uint64_t> LatestCheckpoint(const storage::EventLog& log,
                                          const std::string& dyad,
                                          uint64_t position,
                                          v1::RelationshipState* state) {
  const std::string prefix = format::CheckpointPrefix(dyad);
  uint64_t at = 0;
  absl::Status error;
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, prefix,
      format::CheckpointKey(dyad, position), Direction::kBackward,
      [&](absl::string_view key, absl::string_view value) {
        if (key.size() != prefix.size() + 8 ||
            !state->ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("a checkpoint of ", dyad, " is corrupt"));
        } else {
          at = format::DecodeBigEndian64(key.data() + prefix.size());
        }
        return false;
      }));
  RETURN_IF_ERROR(error);
  if (at == 0) state->set_dyad(dyad);
  return at;
}

DayKey FirstDayOfYear(uint32_t year) { return year * 10000 + 101; }
DayKey LastDayOfYear(uint32_t year) { return year * 10000 + 1231; }

// Folds into `state` the effective events of `dyad` whose interval ends
// from `from` through `to`, read from its timeline, whose longest span is
// `span` days. Returns how many start by `to` but end after it.
absl::StatusOr<int64_t> FoldEndingIn(const storage::EventLog& log,
                                     const std::string& dyad, uint32_t span,
                                     DayKey from, DayKey to,
                                     v1::RelationshipState* state) {
  std::vector<uint64_t> contents;
  int64_t uncertain = 0;
  absl::Status scan_error;
  const std::string prefix = format::TimelinePrefix(dyad);
  // An interval that ends by `from` or later starts at most `span` days
  // before it.
  const std::string lower =
      format::TimelineKey(dyad, DaysBefore(from, span), 0, 0);
  const std::string upper =
      format::TimelineKey(dyad, to, std::numeric_limits<uint32_t>::max(),
                          std::numeric_limits<uint64_t>::max());
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, prefix, lower, Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        if (key > upper) return false;
        uint32_t first = 0, last = 0;
        uint64_t position = 0;
        absl::StatusOr<uint64_t> content = ParsePosition(value);
        if (!format::ParseTimelineSuffix(key.substr(prefix.size()), &first,
                                         &last, &position) ||
            !content.ok()) {
          scan_error = absl::DataLossError("malformed timeline entry");
          return false;
        }
        if (last > to) {
          ++uncertain;
        } else if (last >= from) {
          contents.push_back(*content);
        }
        return true;
      }));
  RETURN_IF_ERROR(scan_error);
  // The timeline holds effective contents only: BuildState's fold, one
  // event at a time instead of all of them in memory at once.
  RETURN_IF_ERROR(
      ForEachEventAt(log, contents, [&](v1::RecordedEvent& recorded) {
        ApplyIfTouches(dyad, ContentOf(recorded), state);
      }));
  return uncertain;
}

// The year marks of `dyad` (storage/format.h) of the years before
// `before`, in year order: (year, position).
absl::StatusOr<std::vector<std::pair<uint32_t, uint64_t>>> YearMarks(
    const storage::EventLog& log, const std::string& dyad, uint32_t before) {
  std::vector<std::pair<uint32_t, uint64_t>> marks;
  absl::Status error;
  const std::string prefix = format::YearMarkPrefix(dyad);
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, prefix, "", Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        uint64_t mark = 0;
        if (key.size() != prefix.size() + 4 ||
            !format::ParseBigEndian64(value, &mark)) {
          error = absl::DataLossError(
              absl::StrCat("a year mark of ", dyad, " is malformed"));
          return false;
        }
        const uint32_t year =
            format::DecodeBigEndian32(key.data() + prefix.size());
        if (year >= before) return false;
        marks.emplace_back(year, mark);
        return true;
      }));
  RETURN_IF_ERROR(error);
  return marks;
}

// A year partial's value (storage/format.h): BE64 position || chain hash
// there || the state.
constexpr size_t kPartialHeader = 8 + format::kHashSize;

// The year partials of `dyad` kept in the caches that are current for a
// reader at `head`, by year: each one's state bytes. `marks` are the
// dyad's year marks (YearMarks).
absl::StatusOr<absl::flat_hash_map<uint32_t, std::string>> CurrentPartials(
    const storage::EventLog& log, const std::string& dyad,
    const std::vector<std::pair<uint32_t, uint64_t>>& marks,
    const storage::Head& head) {
  const std::string prefix = format::YearMarkPrefix(dyad);
  // The partials computed at or after their year's mark and not after
  // `head` (so none holds what this reader's head does not).
  struct Kept {
    uint64_t at;
    std::string hash;
    std::string state;
  };
  absl::flat_hash_map<uint32_t, Kept> kept;
  auto mark = marks.begin();
  RETURN_IF_ERROR(log.ScanCache(prefix, [&](absl::string_view key,
                                            absl::string_view value) {
    if (key.size() != prefix.size() + 4 || value.size() < kPartialHeader) {
      return true;  // not a partial: computed again and replaced
    }
    const uint32_t year = format::DecodeBigEndian32(key.data() + prefix.size());
    while (mark != marks.end() && mark->first < year) ++mark;
    if (mark == marks.end()) return false;
    if (mark->first != year) return true;
    const uint64_t at = format::DecodeBigEndian64(value.data());
    if (at < mark->second || at > head.position) return true;
    kept[year] = Kept{at, std::string(value.substr(8, format::kHashSize)),
                      std::string(value.substr(kPartialHeader))};
    return true;
  }));
  // Of those, the ones computed on this log's history: the chain hash at
  // their position is still the one they kept.
  absl::flat_hash_map<uint64_t, std::string> hashes = {
      {head.position, head.hash}};
  std::vector<uint64_t> positions;
  for (const auto& [year, partial] : kept) {
    if (hashes.emplace(partial.at, "").second) positions.push_back(partial.at);
  }
  if (!positions.empty()) {
    ASSIGN_OR_RETURN(const std::vector<v1::RecordedEvent> events,
                     log.GetEventsAt(positions));
    for (const v1::RecordedEvent& event : events) {
      hashes[event.position()] = event.hash();
    }
  }
  absl::flat_hash_map<uint32_t, std::string> current;
  for (auto& [year, partial] : kept) {
    if (hashes[partial.at] == partial.hash) {
      current[year] = std::move(partial.state);
    }
  }
  return current;
}

// Calls `visit` with each year partial of `dyad` of the years before
// `before` that have events: the kept one when current, else one folded
// from the timeline (whose longest span is `span`) and kept for the next
// reader (`fresh`).
absl::Status ForEachYearPartial(
    const storage::EventLog& log, const std::string& dyad, uint32_t span,
    uint32_t before,
    const std::function<void(const v1::RelationshipState& partial, bool fresh)>&
        visit) {
  // The head first: a partial folded after it may hold later events too,
  // and the year marks of those are after the head, so it is not taken
  // for current when they are.
  const storage::Head head = log.GetHead();
  ASSIGN_OR_RETURN(const auto marks, YearMarks(log, dyad, before));
  ASSIGN_OR_RETURN(const auto current, CurrentPartials(log, dyad, marks, head));
  for (const auto& [year, mark] : marks) {
    v1::RelationshipState partial;
    const auto it = current.find(year);
    if (it != current.end() &&
        partial.ParseFromArray(it->second.data(),
                               static_cast<int>(it->second.size()))) {
      visit(partial, false);
      continue;
    }
    partial.Clear();
    partial.set_dyad(dyad);
    RETURN_IF_ERROR(FoldEndingIn(log, dyad, span, FirstDayOfYear(year),
                                 LastDayOfYear(year), &partial)
                        .status());
    visit(partial, true);
    std::string value = format::EncodeBigEndian64(head.position);
    value.append(head.hash);
    value.append(SerializeState(partial));
    // A cache: a reader that cannot keep it has still answered.
    log.KeepCache(format::YearMarkKey(dyad, year), value).IgnoreError();
  }
  return absl::OkStatus();
}

}  // namespace

// The state of `dyad` as the log knew it at `position`: its latest
// checkpoint at or before `position`, and every event and correction after
// it up to `position` that touched the dyad, and the originals they
// correct, folded as EffectiveEvents does. None of those corrections takes
// out content the checkpoint holds (services/relationships/projector.h).
absl::StatusOr<v1::RelationshipState> StateAtPosition(
    const storage::EventLog& log, const std::string& dyad, uint64_t position) {
  v1::RelationshipState state;
  ASSIGN_OR_RETURN(const uint64_t checkpoint,
                   LatestCheckpoint(log, dyad, position, &state));
  // The dyad's history after the checkpoint up to `position`: its
  // corrections (the entry says so) and every other event.
  std::vector<uint64_t> positions, correction_positions;
  absl::Status scan_error;
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, format::HistoryPrefix(dyad),
      format::HistoryKey(dyad, checkpoint + 1), Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        if (key.size() < 8) {
          scan_error = absl::DataLossError("malformed history entry");
          return false;
        }
        const uint64_t at = format::DecodeBigEndian64(key.data() + key.size() - 8);
        if (at > position) return false;
        (value == format::kHistoryCorrection ? correction_positions : positions)
            .push_back(at);
        return true;
      }));
  RETURN_IF_ERROR(scan_error);
  // Memory holds the corrections and what they correct, not every event of
  // the dyad (hundreds of MB for a large one). First the corrections, and
  // the ids they name.
  std::vector<v1::RecordedEvent> kept;
  absl::flat_hash_set<std::string> corrected;
  RETURN_IF_ERROR(
      ForEachEventAt(log, correction_positions, [&](v1::RecordedEvent& event) {
        if (!event.event().has_correction()) {
          scan_error = absl::DataLossError(absl::StrCat(
              "the history of ", dyad, " marks position ", event.position(),
              " as a correction, and it is not one"));
          return;
        }
        corrected.insert(event.event().correction().corrects_event_id());
        kept.push_back(std::move(event));
      }));
  RETURN_IF_ERROR(scan_error);
  // Then every event no correction names is folded as it is read (Apply
  // is order-independent); the named ones are kept for EffectiveEvents.
  auto fold = [&state, &dyad](const v1::Event& event) {
    ApplyIfTouches(dyad, event, &state);
  };
  absl::flat_hash_set<uint64_t> seen;
  RETURN_IF_ERROR(ForEachEventAt(log, positions, [&](v1::RecordedEvent& event) {
    if (corrected.contains(event.event().id())) {
      seen.insert(event.position());
      kept.push_back(std::move(event));
    } else {
      fold(event.event());
    }
  }));
  // The originals of corrections that moved events in or out of the dyad
  // have no history entry of their own here.
  const size_t corrections = correction_positions.size();
  for (size_t i = 0; i < corrections; ++i) {
    ASSIGN_OR_RETURN(
        v1::RecordedEvent original,
        log.GetEvent(kept[i].event().correction().corrects_event_id()));
    if (!std::binary_search(correction_positions.begin(),
                            correction_positions.end(), original.position()) &&
        seen.insert(original.position()).second) {
      kept.push_back(std::move(original));
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const v1::RecordedEvent& a, const v1::RecordedEvent& b) {
              return a.position() < b.position();
            });
  for (const v1::Event& event : EffectiveEvents(kept)) fold(event);
  return state;
}

// The longest span of `subject`'s timeline in days (storage/format.h).
absl::StatusOr<uint32_t> LongestSpan(const storage::EventLog& log,
                                     absl::string_view subject) {
  absl::StatusOr<std::string> stored = log.ReadProjection(
      ProjectionFamily::kDyadTimeline, format::LongestSpanKey(subject));
  if (absl::IsNotFound(stored.status())) return 0;
  if (!stored.ok()) return stored.status();
  if (stored->size() != 4) {
    return absl::DataLossError(absl::StrCat(
        "the longest span of the timeline of \"", subject, "\" is not 4 bytes"));
  }
  return format::DecodeBigEndian32(stored->data());
}

absl::StatusOr<StateByDay> StateAtDate(const storage::EventLog& log,
                                       const std::string& dyad,
                                       DayKey last_day) {
  const uint32_t year = YearOf(last_day);
  ASSIGN_OR_RETURN(const uint32_t span, LongestSpan(log, dyad));
  StateByDay answer;
  answer.state.set_dyad(dyad);
  RETURN_IF_ERROR(ForEachYearPartial(
      log, dyad, span, year,
      [&answer](const v1::RelationshipState& partial, bool) {
        MergeState(partial, &answer.state);
      }));
  ASSIGN_OR_RETURN(answer.uncertain,
                   FoldEndingIn(log, dyad, span, FirstDayOfYear(year),
                                last_day, &answer.state));
  return answer;
}

absl::StatusOr<int> KeepYearPartials(const storage::EventLog& log,
                                     const std::string& dyad) {
  ASSIGN_OR_RETURN(const uint32_t span, LongestSpan(log, dyad));
  int computed = 0;
  RETURN_IF_ERROR(ForEachYearPartial(
      log, dyad, span, std::numeric_limits<uint32_t>::max(),
      [&computed](const v1::RelationshipState&, bool fresh) {
        computed += fresh ? 1 : 0;
      }));
  return computed;
}

}  // namespace annals::services
