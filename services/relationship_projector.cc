#include "services/relationship_projector.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/projection.h"
#include "storage/format.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

using storage::ProjectionContext;
using storage::ProjectionFamily;
namespace format = storage::format;

absl::StatusOr<uint64_t> ParsePosition(absl::string_view value,
                                       absl::string_view what) {
  uint64_t position = 0;
  if (!format::ParseBigEndian64(value, &position)) {
    return absl::InternalError(
        absl::StrCat("projection entry ", what, " is not an 8-byte position"));
  }
  return position;
}

// The projection work of one commit group. States are loaded once, changed
// in memory, and written back (with their ordering keys) by Flush.
class GroupProjection {
 public:
  explicit GroupProjection(ProjectionContext* context) : context_(context) {}

  absl::Status Event(const v1::RecordedEvent& recorded) {
    const v1::Event& event = recorded.event();
    RETURN_IF_ERROR(PutTimeline(event, recorded.position(), recorded.position()));
    for (const std::string& dyad : DyadsOf(event)) {
      RETURN_IF_ERROR(context_->Put(ProjectionFamily::kDyadTimeline,
                                    format::HistoryKey(dyad, recorded.position()),
                                    ""));
      ASSIGN_OR_RETURN(Cached * cached, Load(dyad));
      Apply(event, &cached->state);
    }
    return absl::OkStatus();
  }

  absl::Status Correction(const v1::RecordedEvent& recorded) {
    const v1::Correction& correction = recorded.event().correction();
    std::optional<v1::Event> next;
    switch (correction.action()) {
      case v1::Correction::ACTION_AMEND:
        // Never valid (services/validation.h); EffectiveEvents ignores it.
        if (correction.amended().has_correction()) return absl::OkStatus();
        next = ContentOf(recorded);
        break;
      case v1::Correction::ACTION_RETRACT:
        break;
      default:
        return absl::OkStatus();  // ignored like EffectiveEvents does
    }
    ASSIGN_OR_RETURN(const uint64_t corrected,
                     context_->PositionOf(correction.corrects_event_id()));
    ASSIGN_OR_RETURN(std::optional<v1::Event> previous,
                     ContentBefore(corrected));

    if (previous.has_value()) {
      const uint32_t date = DateKeyOf(previous->occurred());
      for (const std::string& subject : SubjectsOf(*previous)) {
        RETURN_IF_ERROR(
            context_->Delete(ProjectionFamily::kDyadTimeline,
                             format::TimelineKey(subject, date, corrected)));
      }
    }
    if (next.has_value()) {
      RETURN_IF_ERROR(PutTimeline(*next, corrected, recorded.position()));
    }
    RETURN_IF_ERROR(context_->Put(
        ProjectionFamily::kDyadTimeline, format::LatestCorrectionKey(corrected),
        format::EncodeBigEndian64(recorded.position())));

    std::vector<std::string> dyads;
    if (previous.has_value()) dyads = DyadsOf(*previous);
    if (next.has_value()) {
      for (std::string& dyad : DyadsOf(*next)) dyads.push_back(std::move(dyad));
    }
    std::sort(dyads.begin(), dyads.end());
    dyads.erase(std::unique(dyads.begin(), dyads.end()), dyads.end());
    for (const std::string& dyad : dyads) {
      RETURN_IF_ERROR(context_->Put(
          ProjectionFamily::kDyadTimeline,
          format::HistoryKey(dyad, recorded.position()), ""));
      RETURN_IF_ERROR(Rebuild(dyad));
    }
    return absl::OkStatus();
  }

  // Writes every changed state and moves its ordering keys. A dyad left
  // with no events has no state and no ordering keys.
  absl::Status Flush() {
    for (auto& [dyad, cached] : states_) {
      const bool empty = cached.state.event_count() == 0;
      std::string activity, index;
      if (!empty) {
        activity = ByActivityKeyOf(cached.state);
        index = ByIndexKeyOf(cached.state);
        RETURN_IF_ERROR(context_->Put(ProjectionFamily::kRelationships, dyad,
                                      SerializeState(cached.state)));
      } else if (cached.existed) {
        RETURN_IF_ERROR(context_->Delete(ProjectionFamily::kRelationships, dyad));
      }
      RETURN_IF_ERROR(MoveKey(cached.existed, cached.activity, activity));
      RETURN_IF_ERROR(MoveKey(cached.existed, cached.index, index));
    }
    return absl::OkStatus();
  }

 private:
  struct Cached {
    v1::RelationshipState state;
    bool existed = false;   // stored before this group
    std::string activity;   // its ordering keys as stored, when it existed
    std::string index;
  };

  absl::StatusOr<Cached*> Load(const std::string& dyad) {
    auto [it, inserted] = states_.try_emplace(dyad);
    Cached& cached = it->second;
    if (!inserted) return &cached;
    absl::StatusOr<std::string> stored =
        context_->Get(ProjectionFamily::kRelationships, dyad);
    if (absl::IsNotFound(stored.status())) {
      cached.state.set_dyad(dyad);
      return &cached;
    }
    if (!stored.ok()) {
      states_.erase(it);
      return stored.status();
    }
    if (!cached.state.ParseFromString(*stored) || cached.state.dyad() != dyad) {
      states_.erase(it);
      return absl::InternalError(
          absl::StrCat("stored relationship state of ", dyad, " is corrupt"));
    }
    cached.existed = true;
    cached.activity = ByActivityKeyOf(cached.state);
    cached.index = ByIndexKeyOf(cached.state);
    return &cached;
  }

  absl::Status PutTimeline(const v1::Event& content, uint64_t position,
                           uint64_t content_position) {
    const uint32_t date = DateKeyOf(content.occurred());
    const std::string value = format::EncodeBigEndian64(content_position);
    for (const std::string& subject : SubjectsOf(content)) {
      RETURN_IF_ERROR(
          context_->Put(ProjectionFamily::kDyadTimeline,
                        format::TimelineKey(subject, date, position), value));
    }
    return absl::OkStatus();
  }

  // The content of the event at `position` before the correction being
  // projected: the original, the latest amendment, or none (retracted).
  absl::StatusOr<std::optional<v1::Event>> ContentBefore(uint64_t position) {
    uint64_t holder = position;
    absl::StatusOr<std::string> latest = context_->Get(
        ProjectionFamily::kDyadTimeline, format::LatestCorrectionKey(position));
    if (latest.ok()) {
      ASSIGN_OR_RETURN(holder, ParsePosition(*latest, "latest correction"));
    } else if (!absl::IsNotFound(latest.status())) {
      return latest.status();
    }
    ASSIGN_OR_RETURN(const v1::RecordedEvent recorded, context_->EventAt(holder));
    if (recorded.event().has_correction() &&
        recorded.event().correction().action() ==
            v1::Correction::ACTION_RETRACT) {
      return std::nullopt;
    }
    return ContentOf(recorded);
  }

  // Recomputes the state of `dyad` from its timeline (as of this group).
  absl::Status Rebuild(const std::string& dyad) {
    std::vector<std::string> values;
    RETURN_IF_ERROR(context_->Scan(
        ProjectionFamily::kDyadTimeline, format::TimelinePrefix(dyad),
        [&values](absl::string_view, absl::string_view value) {
          values.emplace_back(value);
        }));
    std::vector<v1::Event> events;
    events.reserve(values.size());
    for (const std::string& value : values) {
      ASSIGN_OR_RETURN(const uint64_t position,
                       ParsePosition(value, "timeline"));
      ASSIGN_OR_RETURN(const v1::RecordedEvent recorded,
                       context_->EventAt(position));
      events.push_back(ContentOf(recorded));
    }
    ASSIGN_OR_RETURN(Cached * cached, Load(dyad));
    cached->state = BuildState(dyad, events);
    return absl::OkStatus();
  }

  absl::Status MoveKey(bool existed, const std::string& from,
                       const std::string& to) {
    if (existed && from == to) return absl::OkStatus();
    if (existed) {
      RETURN_IF_ERROR(context_->Delete(ProjectionFamily::kRelationships, from));
    }
    if (to.empty()) return absl::OkStatus();
    return context_->Put(ProjectionFamily::kRelationships, to, "");
  }

  ProjectionContext* const context_;
  absl::flat_hash_map<std::string, Cached> states_;
};

}  // namespace

uint32_t DateKeyOf(const v1::Occurred& occurred) {
  const v1::Date& d = occurred.start();
  return static_cast<uint32_t>(d.year()) * 10000 +
         static_cast<uint32_t>(d.month()) * 100 + static_cast<uint32_t>(d.day());
}

std::vector<std::string> SubjectsOf(const v1::Event& event) {
  std::vector<std::string> subjects = {""};
  for (const std::string& actor : event.source()) subjects.push_back(actor);
  for (const std::string& actor : event.target()) subjects.push_back(actor);
  for (const std::string& actor : event.resolution().sponsors()) {
    subjects.push_back(actor);
  }
  for (std::string& dyad : DyadsOf(event)) subjects.push_back(std::move(dyad));
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  return subjects;
}

v1::Event ContentOf(const v1::RecordedEvent& recorded) {
  const v1::Event& event = recorded.event();
  if (!event.has_correction() ||
      event.correction().action() != v1::Correction::ACTION_AMEND) {
    return event;
  }
  v1::Event content = event.correction().amended();
  content.set_id(event.correction().corrects_event_id());
  return content;
}

std::string ByActivityKeyOf(const v1::RelationshipState& state) {
  return format::ByActivityKey(DateKeyOf(state.last_event().occurred()),
                               state.dyad());
}

std::string ByIndexKeyOf(const v1::RelationshipState& state) {
  return format::ByIndexKey(static_cast<int32_t>(CurrentIndex(state).mean_tenths),
                            state.dyad());
}

absl::Status RelationshipProjector::Project(
    const std::vector<const v1::RecordedEvent*>& events,
    ProjectionContext* context) {
  GroupProjection group(context);
  for (const v1::RecordedEvent* recorded : events) {
    if (recorded->event().has_correction()) {
      RETURN_IF_ERROR(group.Correction(*recorded));
    } else {
      RETURN_IF_ERROR(group.Event(*recorded));
    }
  }
  return group.Flush();
}

}  // namespace annals::services
