#include "services/relationships/as_of.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
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

// A dyad's month marks (storage/format.h) by year: per month (1-12) the
// position of its latest change, 0 for a month without one.
using MonthMarks = absl::btree_map<uint32_t, std::array<uint64_t, 13>>;

// The month marks of `dyad` of the years through `last_year`.
absl::StatusOr<MonthMarks> ReadMonthMarks(const storage::EventLog& log,
                                          const std::string& dyad,
                                          uint32_t last_year) {
  MonthMarks marks;
  absl::Status error;
  const std::string prefix = format::DyadTagPrefix(dyad, format::kMonthMarkTag);
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, prefix, "", Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        uint64_t mark = 0;
        const uint8_t month = key.size() == prefix.size() + 5 ? key.back() : 0;
        if (month < 1 || month > 12 || !format::ParseBigEndian64(value, &mark)) {
          error = absl::DataLossError(
              absl::StrCat("a month mark of ", dyad, " is malformed"));
          return false;
        }
        const uint32_t year =
            format::DecodeBigEndian32(key.data() + prefix.size());
        if (year > last_year) return false;
        auto [it, inserted] = marks.try_emplace(year);
        if (inserted) it->second.fill(0);
        it->second[month] = mark;
        return true;
      }));
  RETURN_IF_ERROR(error);
  return marks;
}

// The latest change of a year: its latest month mark.
uint64_t YearMark(const std::array<uint64_t, 13>& months) {
  return *std::max_element(months.begin(), months.end());
}

// A partial's value (storage/format.h): BE64 position || the chain hash
// there || the state.
constexpr size_t kPartialHeader = 8 + format::kHashSize;

std::string PartialValue(const storage::Head& head,
                         const v1::RelationshipState& partial) {
  std::string value = format::EncodeBigEndian64(head.position);
  value.append(head.hash);
  value.append(SerializeState(partial));
  return value;
}

// The partials kept under `prefix` whose keys are `suffix_size` bytes
// longer that are current for a reader at `head`, by the rest of their
// key: the state bytes of each one computed at or after `mark_of(rest)`
// (0: none is current) and not after `head` (so none holds what this
// reader's head does not), on this log's history (the chain hash at its
// position is still the one it kept).
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> CurrentPartials(
    const storage::EventLog& log, const std::string& prefix,
    size_t suffix_size, const storage::Head& head,
    const std::function<uint64_t(absl::string_view rest)>& mark_of) {
  struct Kept {
    uint64_t at;
    std::string hash;
    std::string state;
  };
  absl::flat_hash_map<std::string, Kept> kept;
  RETURN_IF_ERROR(log.ScanCache(prefix, [&](absl::string_view key,
                                            absl::string_view value) {
    if (key.size() != prefix.size() + suffix_size ||
        value.size() < kPartialHeader) {
      return true;  // not a partial: folded again and replaced
    }
    const absl::string_view rest = key.substr(prefix.size());
    const uint64_t mark = mark_of(rest);
    const uint64_t at = format::DecodeBigEndian64(value.data());
    if (mark == 0 || at < mark || at > head.position) return true;
    kept.emplace(rest, Kept{at, std::string(value.substr(8, format::kHashSize)),
                            std::string(value.substr(kPartialHeader))});
    return true;
  }));
  absl::flat_hash_map<uint64_t, std::string> hashes = {
      {head.position, head.hash}};
  std::vector<uint64_t> positions;
  for (const auto& [rest, partial] : kept) {
    if (hashes.emplace(partial.at, "").second) positions.push_back(partial.at);
  }
  if (!positions.empty()) {
    ASSIGN_OR_RETURN(const std::vector<v1::RecordedEvent> events,
                     log.GetEventsAt(positions));
    for (const v1::RecordedEvent& event : events) {
      hashes[event.position()] = event.hash();
    }
  }
  absl::flat_hash_map<std::string, std::string> current;
  for (auto& [rest, partial] : kept) {
    if (hashes[partial.at] == partial.hash) {
      current.emplace(rest, std::move(partial.state));
    }
  }
  return current;
}

std::string YearSuffix(uint32_t year) {
  std::string suffix;
  format::PutBigEndian32(&suffix, year);
  return suffix;
}

// The current year partials of `dyad` (CurrentPartials), by year.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> CurrentYears(
    const storage::EventLog& log, const std::string& dyad,
    const MonthMarks& marks, const storage::Head& head) {
  return CurrentPartials(
      log, format::DyadTagPrefix(dyad, format::kYearPartialTag), 4, head,
      [&marks](absl::string_view rest) -> uint64_t {
        const auto it = marks.find(format::DecodeBigEndian32(rest.data()));
        return it == marks.end() ? 0 : YearMark(it->second);
      });
}

// The current month partials of `dyad` of `year` (CurrentPartials), by
// month (one byte).
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> CurrentMonths(
    const storage::EventLog& log, const std::string& dyad, uint32_t year,
    const std::array<uint64_t, 13>& marks, const storage::Head& head) {
  return CurrentPartials(
      log,
      format::DyadTagPrefix(dyad, format::kMonthPartialTag) + YearSuffix(year),
      1, head, [&marks](absl::string_view rest) -> uint64_t {
        const uint8_t month = rest[0];
        return month >= 1 && month <= 12 ? marks[month] : 0;
      });
}

// The partials of months 1 through `through` of a year whose month marks
// are `marks`, parsed, when each month with a mark has a current one in
// `kept` (CurrentMonths) that parses; nullopt otherwise.
std::optional<std::vector<v1::RelationshipState>> KeptMonths(
    const absl::flat_hash_map<std::string, std::string>& kept,
    const std::array<uint64_t, 13>& marks, uint8_t through) {
  std::vector<v1::RelationshipState> parts;
  for (uint8_t m = 1; m <= through; ++m) {
    if (marks[m] == 0) continue;
    const auto it = kept.find(std::string(1, m));
    if (it == kept.end() ||
        !parts.emplace_back().ParseFromArray(
            it->second.data(), static_cast<int>(it->second.size()))) {
      return std::nullopt;
    }
  }
  return parts;
}

// Merges the partial in `bytes` into `state`; false when it does not
// parse (it is then folded again).
bool MergeKept(const std::string& bytes, v1::RelationshipState* state) {
  v1::RelationshipState partial;
  if (!partial.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return false;
  }
  MergeState(partial, state);
  return true;
}

// The fold of the events of `dyad` that end from `from` through `to`.
absl::StatusOr<v1::RelationshipState> FoldPartial(const storage::EventLog& log,
                                                  const std::string& dyad,
                                                  uint32_t span, DayKey from,
                                                  DayKey to) {
  v1::RelationshipState partial;
  partial.set_dyad(dyad);
  RETURN_IF_ERROR(FoldEndingIn(log, dyad, span, from, to, &partial).status());
  return partial;
}

// Per marked year, the latest change of it and every earlier year: what
// a through partial of the year must be computed at or after.
absl::btree_map<uint32_t, uint64_t> ThroughMarks(const MonthMarks& marks) {
  absl::btree_map<uint32_t, uint64_t> through;
  uint64_t latest = 0;
  for (const auto& [year, months] : marks) {
    latest = std::max(latest, YearMark(months));
    through.emplace_hint(through.end(), year, latest);
  }
  return through;
}

// The current through partials of `dyad` (CurrentPartials), by year.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> CurrentThroughs(
    const storage::EventLog& log, const std::string& dyad,
    const MonthMarks& marks, const storage::Head& head) {
  const absl::btree_map<uint32_t, uint64_t> through = ThroughMarks(marks);
  return CurrentPartials(
      log, format::DyadTagPrefix(dyad, format::kThroughPartialTag), 4, head,
      [&through](absl::string_view rest) -> uint64_t {
        const auto it = through.find(format::DecodeBigEndian32(rest.data()));
        return it == through.end() ? 0 : it->second;
      });
}

// Merges into `state` the year partials of `dyad` of the marked years
// before `end`: each kept one that is current, the others folded from the
// timeline (whose longest span is `span` days) and kept.
absl::Status MergeYears(const storage::EventLog& log, const std::string& dyad,
                        uint32_t span, const MonthMarks& marks,
                        MonthMarks::const_iterator end,
                        const storage::Head& head, uint64_t epoch,
                        v1::RelationshipState* state) {
  ASSIGN_OR_RETURN(const auto years, CurrentYears(log, dyad, marks, head));
  for (auto marked = marks.begin(); marked != end; ++marked) {
    const uint32_t year = marked->first;
    const auto it = years.find(YearSuffix(year));
    if (it != years.end() && MergeKept(it->second, state)) continue;
    ASSIGN_OR_RETURN(const v1::RelationshipState partial,
                     FoldPartial(log, dyad, span, FirstDayOfMonth(year, 1),
                                 MonthEndBound(year, 12)));
    MergeState(partial, state);
    // A cache: a reader that cannot keep it has still answered.
    log.KeepCache(format::YearKey(dyad, format::kYearPartialTag, year),
                  PartialValue(head, partial), epoch)
        .IgnoreError();
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
  const uint8_t month = MonthOf(last_day);
  // The caches' epoch before anything is read (EventLog::KeepCache).
  const uint64_t epoch = log.CacheEpoch();
  // The head first: a partial folded after it may hold later events too,
  // and the marks of those are after the head, so it is not taken for
  // current when they are.
  const storage::Head head = log.GetHead();
  ASSIGN_OR_RETURN(const uint32_t span, LongestSpan(log, dyad));
  ASSIGN_OR_RETURN(const MonthMarks marks, ReadMonthMarks(log, dyad, year));
  StateByDay answer;
  answer.state.set_dyad(dyad);
  // The years before the date's: their through partial when it is
  // current, else the merge of their year partials, then kept as it.
  const auto own = marks.lower_bound(year);
  if (own != marks.begin()) {
    const uint32_t prior = std::prev(own)->first;
    const std::string key =
        format::YearKey(dyad, format::kThroughPartialTag, prior);
    const uint64_t prior_mark = ThroughMarks(marks).at(prior);
    ASSIGN_OR_RETURN(
        const auto through,
        CurrentPartials(log, key, 0, head,
                        [prior_mark](absl::string_view) { return prior_mark; }));
    const auto it = through.find("");
    if (it == through.end() ||
        !answer.state.ParseFromArray(it->second.data(),
                                     static_cast<int>(it->second.size()))) {
      answer.state.Clear();
      answer.state.set_dyad(dyad);
      RETURN_IF_ERROR(MergeYears(log, dyad, span, marks, own, head, epoch,
                                 &answer.state));
      // A cache: a reader that cannot keep it has still answered.
      log.KeepCache(key, PartialValue(head, answer.state), epoch)
          .IgnoreError();
    }
  }
  // The date's own year: its months before the date's from their
  // partials when each is current, and the rest folded.
  DayKey fold_from = FirstDayOfMonth(year, 1);
  if (own != marks.end() && month > 1) {
    ASSIGN_OR_RETURN(const auto kept,
                     CurrentMonths(log, dyad, year, own->second, head));
    if (const auto parts = KeptMonths(kept, own->second, month - 1)) {
      for (const v1::RelationshipState& part : *parts) {
        MergeState(part, &answer.state);
      }
      fold_from = FirstDayOfMonth(year, month);
    }
  }
  ASSIGN_OR_RETURN(answer.uncertain, FoldEndingIn(log, dyad, span, fold_from,
                                                  last_day, &answer.state));
  return answer;
}

absl::StatusOr<int> KeepPartials(const storage::EventLog& log,
                                 const std::string& dyad,
                                 int64_t month_partial_events) {
  const uint64_t epoch = log.CacheEpoch();  // before anything is read
  const storage::Head head = log.GetHead();
  ASSIGN_OR_RETURN(const uint32_t span, LongestSpan(log, dyad));
  ASSIGN_OR_RETURN(const MonthMarks marks,
                   ReadMonthMarks(log, dyad, std::numeric_limits<uint32_t>::max()));
  ASSIGN_OR_RETURN(const auto years, CurrentYears(log, dyad, marks, head));
  ASSIGN_OR_RETURN(const auto throughs,
                   CurrentThroughs(log, dyad, marks, head));
  // The merge of the years so far, for their through partials: needed
  // only when one of them is not current, and then from the first year.
  const bool throughs_current = throughs.size() == marks.size();
  v1::RelationshipState so_far;
  so_far.set_dyad(dyad);
  int folded = 0;
  for (const auto& [year, months] : marks) {
    const auto it = years.find(YearSuffix(year));
    v1::RelationshipState whole;
    bool current = it != years.end() &&
                   whole.ParseFromArray(it->second.data(),
                                        static_cast<int>(it->second.size()));
    if (current && whole.event_count() >= month_partial_events) {
      ASSIGN_OR_RETURN(const auto kept_months,
                       CurrentMonths(log, dyad, year, months, head));
      current = KeptMonths(kept_months, months, 12).has_value();
    }
    if (!current) {
      // The year month by month, and the year as their merge.
      ++folded;
      whole.Clear();
      whole.set_dyad(dyad);
      std::vector<std::pair<uint8_t, v1::RelationshipState>> parts;
      for (uint8_t m = 1; m <= 12; ++m) {
        if (months[m] == 0) continue;
        ASSIGN_OR_RETURN(v1::RelationshipState part,
                         FoldPartial(log, dyad, span, FirstDayOfMonth(year, m),
                                     MonthEndBound(year, m)));
        MergeState(part, &whole);
        parts.emplace_back(m, std::move(part));
      }
      if (whole.event_count() >= month_partial_events) {
        for (const auto& [m, part] : parts) {
          RETURN_IF_ERROR(log.KeepCache(
              format::MonthKey(dyad, format::kMonthPartialTag, year, m),
              PartialValue(head, part), epoch));
        }
      }
      RETURN_IF_ERROR(
          log.KeepCache(format::YearKey(dyad, format::kYearPartialTag, year),
                        PartialValue(head, whole), epoch));
    }
    if (throughs_current) continue;
    MergeState(whole, &so_far);
    if (!throughs.contains(YearSuffix(year))) {
      RETURN_IF_ERROR(log.KeepCache(
          format::YearKey(dyad, format::kThroughPartialTag, year),
          PartialValue(head, so_far), epoch));
    }
  }
  return folded;
}

}  // namespace annals::services
