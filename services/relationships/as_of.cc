#include "services/relationships/as_of.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/model/projection.h"
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

// The state of `dyad` from its effective events whose interval ends by
// `last_day`.
absl::StatusOr<StateByDay> StateAtDate(const storage::EventLog& log,
                                       const std::string& dyad,
                                       DayKey last_day) {
  std::vector<uint64_t> contents;
  StateByDay answer;
  absl::Status scan_error;
  const std::string prefix = format::TimelinePrefix(dyad);
  const std::string upper =
      format::TimelineKey(dyad, last_day, std::numeric_limits<uint32_t>::max(),
                          std::numeric_limits<uint64_t>::max());
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, prefix, "", Direction::kForward,
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
        if (last > last_day) {
          ++answer.uncertain;
        } else {
          contents.push_back(*content);
        }
        return true;
      }));
  RETURN_IF_ERROR(scan_error);
  // The timeline holds effective contents only: BuildState's fold, one
  // event at a time instead of all of them in memory at once.
  answer.state.set_dyad(dyad);
  RETURN_IF_ERROR(
      ForEachEventAt(log, contents, [&](v1::RecordedEvent& recorded) {
        ApplyIfTouches(dyad, ContentOf(recorded), &answer.state);
      }));
  return answer;
}

}  // namespace annals::services
