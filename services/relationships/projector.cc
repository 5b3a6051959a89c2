#include "services/relationships/projector.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "services/relationships/carried_states.h"
#include "services/relationships/refill_index.h"
#include "storage/format.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

using storage::ProjectionContext;
using storage::ProjectionFamily;
namespace format = storage::format;

// The position an entry's value starts with: all of it (index and latest
// correction entries) or followed by the kind (timeline entries).
absl::StatusOr<uint64_t> ParsePosition(absl::string_view value,
                                       absl::string_view what) {
  uint64_t position = 0;
  uint8_t kind = 0;
  if (!format::ParseBigEndian64(value, &position) &&
      !format::ParseTimelineValue(value, &position, &kind)) {
    return absl::InternalError(
        absl::StrCat("projection entry ", what, " is not a position"));
  }
  return position;
}

// A FillFrom skip: whether an event id is one of `kept`'s records' events
// (which must outlive the returned function).
template <typename Records>
std::function<bool(absl::string_view)> AmongKept(const Records& kept) {
  return [&kept](absl::string_view id) {
    return std::any_of(kept.begin(), kept.end(), [id](const auto& record) {
      return record.event().event_id() == id;
    });
  };
}

// Merges a stored series entry of `dyad` into `state`. A list's entry goes
// into a list that is empty until it is merged: appending keeps the
// entry's order. Callers put the series back in order (SortSeries).
absl::Status MergeEntry(absl::string_view dyad, absl::string_view bytes,
                        v1::RelationshipState* state) {
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  if (!state->MergeFromCodedStream(&input)) {
    return absl::DataLossError(absl::StrCat(
        "a stored series entry of the state of ", dyad, " is corrupt"));
  }
  return absl::OkStatus();
}

// Puts the series of `state` back in the state's order after entries were
// merged in: months by (year, month), resolution records by (body, year).
void SortSeries(v1::RelationshipState* state) {
  auto* months = state->mutable_goldstein_monthly();
  std::sort(months->pointer_begin(), months->pointer_end(),
            [](const v1::GoldsteinMonth* a, const v1::GoldsteinMonth* b) {
              return std::make_pair(a->year(), a->month()) <
                     std::make_pair(b->year(), b->month());
            });
  auto* resolutions = state->mutable_resolutions();
  std::sort(resolutions->pointer_begin(), resolutions->pointer_end(),
            [](const v1::ResolutionRecord* a, const v1::ResolutionRecord* b) {
              return std::make_pair(absl::string_view(a->body()), a->year()) <
                     std::make_pair(absl::string_view(b->body()), b->year());
            });
}

// What a commit group holds of a dyad's state.
struct Cached {
  // The record's parts, and the series entries loaded (LoadParts).
  v1::RelationshipState state;
  bool existed = false;   // stored before this group
  std::string activity;   // its ordering keys as stored, when it existed
  std::string index;
  // The entries loaded, stored or not, with their stored bytes (empty
  // when none is): Flush writes those whose bytes changed.
  absl::btree_map<std::string, std::string> parts;
  // The latest month as stored (the stored index's end), and whether an
  // event was taken out in this group (then the latest month may have
  // moved back, and FlushParts reads it from the entries).
  absl::optional<YearMonth> stored_latest;
  bool removed = false;
};

// The latest month of a stored state, the end of its stored index.
absl::optional<YearMonth> StoredLatestOf(const v1::GoldsteinIndex& index) {
  if (index.end_month() < 1) return absl::nullopt;
  return YearMonth{index.end_year(), index.end_month()};
}

// Dyads' states as their records hold them, left by one group for the next.
using LeftStates = CarriedStates<Cached>;

// The projection work of one commit group. States are loaded once (taken
// from what the group before left when their records are unchanged),
// changed in memory, and written back (with their ordering keys) by Flush,
// which leaves them to the next group.
class GroupProjection {
 public:
  // `checkpoint_events`: RelationshipProjector's.
  GroupProjection(ProjectionContext* context, uint64_t checkpoint_events,
                  LeftStates* left)
      : context_(context), checkpoint_events_(checkpoint_events), left_(left) {}

  absl::Status Event(const v1::RecordedEvent& recorded) {
    const v1::Event& event = recorded.event();
    RETURN_IF_ERROR(PutTimeline(event, recorded.position(), recorded.position()));
    const DayKey last_day = IntervalOf(event.occurred()).last;
    for (const std::string& dyad : DyadsOf(event)) {
      RETURN_IF_ERROR(context_->Put(ProjectionFamily::kDyadTimeline,
                                    format::HistoryKey(dyad, recorded.position()),
                                    ""));
      RETURN_IF_ERROR(MarkMonth(dyad, last_day, recorded.position()));
      RETURN_IF_ERROR(PutFacets(dyad, event, recorded.position()));
      ASSIGN_OR_RETURN(Cached * cached, Load(dyad));
      RETURN_IF_ERROR(LoadParts(dyad, event, cached));
      Apply(event, &cached->state);
      if (cached->state.event_count() % checkpoint_events_ == 0) {
        RETURN_IF_ERROR(Checkpoint(dyad, recorded.position(), *cached));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Correction(const v1::RecordedEvent& recorded) {
    const v1::Correction& correction = recorded.event().correction();
    std::optional<v1::Event> next;
    switch (correction.action()) {
      case v1::Correction::ACTION_AMEND:
        // Never valid (services/model/validation.h); EffectiveEvents
        // ignores it.
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
      const DayInterval days = IntervalOf(previous->occurred());
      for (const std::string& subject :
           TimelineSubjectsOf(SubjectsOf(*previous))) {
        RETURN_IF_ERROR(context_->Delete(
            ProjectionFamily::kDyadTimeline,
            format::TimelineKey(subject, days.first, days.last, corrected)));
      }
    }
    if (next.has_value()) {
      RETURN_IF_ERROR(PutTimeline(*next, corrected, recorded.position()));
    }
    RETURN_IF_ERROR(context_->Put(
        ProjectionFamily::kDyadTimeline, format::LatestCorrectionKey(corrected),
        format::EncodeBigEndian64(recorded.position())));

    // The index first, so that the refills read the new set of events.
    std::vector<std::string> removed_from, added_to;
    if (previous.has_value()) removed_from = DyadsOf(*previous);
    if (next.has_value()) added_to = DyadsOf(*next);
    for (const std::string& dyad : removed_from) {
      for (const std::string& prefix : FacetPrefixesOf(dyad, *previous)) {
        RETURN_IF_ERROR(context_->Delete(ProjectionFamily::kDyadTimeline,
                                         prefix + FacetSuffix(*previous)));
      }
      RETURN_IF_ERROR(MarkMonth(dyad, IntervalOf(previous->occurred()).last,
                                recorded.position()));
    }
    for (const std::string& dyad : added_to) {
      RETURN_IF_ERROR(PutFacets(dyad, *next, recorded.position()));
      RETURN_IF_ERROR(MarkMonth(dyad, IntervalOf(next->occurred()).last,
                                recorded.position()));
    }

    std::vector<std::string> dyads = removed_from;
    dyads.insert(dyads.end(), added_to.begin(), added_to.end());
    std::sort(dyads.begin(), dyads.end());
    dyads.erase(std::unique(dyads.begin(), dyads.end()), dyads.end());
    for (const std::string& dyad : dyads) {
      RETURN_IF_ERROR(context_->Put(
          ProjectionFamily::kDyadTimeline,
          format::HistoryKey(dyad, recorded.position()),
          format::kHistoryCorrection));
      ASSIGN_OR_RETURN(Cached * cached, Load(dyad));
      Refill refill;
      // Content the latest checkpoint holds is taken out: a checkpoint
      // here, so that no state as of a later position starts before it.
      bool checkpoint = false;
      if (std::binary_search(removed_from.begin(), removed_from.end(), dyad)) {
        ASSIGN_OR_RETURN(const uint64_t last, LastCheckpoint(dyad));
        checkpoint = corrected <= last;
        RETURN_IF_ERROR(LoadParts(dyad, *previous, cached));
        refill = Remove(*previous, &cached->state);
        cached->removed = true;
      }
      if (std::binary_search(added_to.begin(), added_to.end(), dyad)) {
        RETURN_IF_ERROR(LoadParts(dyad, *next, cached));
        Apply(*next, &cached->state);
      }
      RETURN_IF_ERROR(Fill(dyad, refill, &cached->state));
      if (checkpoint) {
        RETURN_IF_ERROR(Checkpoint(dyad, recorded.position(), *cached));
      }
    }
    return absl::OkStatus();
  }

  // Calls `visit` with each dyad whose state the group loaded (and Flush
  // writes).
  template <typename Visit>
  void ForEachDyad(Visit visit) const {
    for (const auto& [dyad, cached] : states_) visit(dyad);
  }

  // Writes every changed state and moves its ordering keys. A dyad left
  // with no events has no state and no ordering keys. Each state written
  // is left to the next group, as its record holds it.
  absl::Status Flush() {
    for (auto& [dyad, cached] : states_) {
      const bool empty = cached.state.event_count() == 0;
      ASSIGN_OR_RETURN(const v1::GoldsteinIndex current,
                       FlushParts(dyad, &cached));
      std::string activity, index, record;
      if (!empty) {
        activity = ByActivityKeyOf(cached.state);
        index = ByIndexKeyOf(dyad, current);
        record = RelationshipRecordOf(&cached.state, current);
        RETURN_IF_ERROR(
            context_->Put(ProjectionFamily::kRelationships, dyad, record));
      } else if (cached.existed) {
        RETURN_IF_ERROR(context_->Delete(ProjectionFamily::kRelationships, dyad));
      }
      RETURN_IF_ERROR(MoveKey(cached.existed, cached.activity, activity));
      RETURN_IF_ERROR(MoveKey(cached.existed, cached.index, index));
      if (!empty) {
        // What Load makes of `record`: the state less its entries' lists.
        ClearEntryLists(&cached.state);
        cached.existed = true;
        cached.activity = std::move(activity);
        cached.index = std::move(index);
        cached.parts.clear();
        cached.stored_latest = StoredLatestOf(current);
        cached.removed = false;
        left_->Keep(dyad, std::move(record), std::move(cached));
      }
    }
    return absl::OkStatus();
  }

 private:
  // Stores the whole state of `dyad` as of `position` (storage/format.h,
  // CheckpointKey): a copy of the cached state with every series entry it
  // has not loaded merged in from storage. The cached state keeps only what
  // the group's events loaded, so that Flush serializes and compares just
  // those entries, not every year and resolution of a large dyad.
  absl::Status Checkpoint(const std::string& dyad, uint64_t position,
                          const Cached& cached) {
    v1::RelationshipState whole = cached.state;
    bool merged = false;
    absl::Status error;
    RETURN_IF_ERROR(context_->ScanUntil(
        ProjectionFamily::kRelationships, RelationshipPartsPrefix(dyad),
        ProjectionContext::Order::kAscending,
        [&](absl::string_view key, absl::string_view value) {
          if (cached.parts.contains(key)) return true;
          error = MergeEntry(dyad, value, &whole);
          merged = true;
          return error.ok();
        }));
    RETURN_IF_ERROR(error);
    if (merged) SortSeries(&whole);
    return context_->Put(ProjectionFamily::kDyadTimeline,
                         format::CheckpointKey(dyad, position),
                         SerializeState(whole));
  }

  // Records that `position` changed the events of `dyad` ending in the
  // month of `last_day` (storage/format.h, month marks): its month and year
  // partials are stale.
  absl::Status MarkMonth(const std::string& dyad, DayKey last_day,
                         uint64_t position) {
    return context_->Put(
        ProjectionFamily::kDyadTimeline,
        format::MonthKey(dyad, format::kMonthMarkTag, YearOf(last_day),
                         MonthOf(last_day)),
        format::EncodeBigEndian64(position));
  }

  // The position of `dyad`'s latest checkpoint; 0 when it has none.
  absl::StatusOr<uint64_t> LastCheckpoint(const std::string& dyad) {
    const std::string prefix = format::CheckpointPrefix(dyad);
    uint64_t last = 0;
    absl::Status error;
    RETURN_IF_ERROR(context_->ScanUntil(
        ProjectionFamily::kDyadTimeline, prefix,
        ProjectionContext::Order::kDescending,
        [&](absl::string_view key, absl::string_view) {
          if (key.size() != prefix.size() + 8) {
            error = absl::DataLossError(absl::StrCat(
                "a checkpoint key of ", dyad, " is malformed"));
          } else {
            last = format::DecodeBigEndian64(key.data() + prefix.size());
          }
          return false;
        }));
    RETURN_IF_ERROR(error);
    return last;
  }

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
    if (left_->Take(dyad, *stored, &cached)) return &cached;
    absl::StatusOr<v1::GetRelationshipResponse> record =
        ParseStoredResponse(*stored, dyad);
    if (!record.ok()) {
      states_.erase(it);
      return record.status();
    }
    cached.state = std::move(*record->mutable_state());
    cached.existed = true;
    cached.activity = ByActivityKeyOf(cached.state);
    cached.index = ByIndexKeyOf(dyad, record->index());
    cached.stored_latest = StoredLatestOf(record->index());
    return &cached;
  }

  // Brings the entries `content` reads or changes in `dyad` (its month,
  // its resolution record, its kind's lists) into the cached state, in
  // the state's order. Apply and Remove of `content` touch no other list.
  absl::Status LoadParts(const std::string& dyad, const v1::Event& content,
                         Cached* cached) {
    const v1::Date& start = content.occurred().start();
    std::vector<std::string> keys = {MonthPartKey(dyad, start.year())};
    if (content.has_resolution()) {
      keys.push_back(
          ResolutionPartKey(dyad, content.resolution().body(), start.year()));
    }
    for (const StateList list : ListsOf(content)) {
      keys.push_back(ListPartKey(dyad, list));
    }
    return LoadEntries(dyad, keys, cached);
  }

  // Merges the entries `keys` of `dyad` not loaded yet into the cached
  // state, in the state's order.
  absl::Status LoadEntries(const std::string& dyad,
                           const std::vector<std::string>& keys,
                           Cached* cached) {
    bool loaded = false;
    for (const std::string& key : keys) {
      if (cached->parts.contains(key)) continue;
      absl::StatusOr<std::string> stored =
          context_->Get(ProjectionFamily::kRelationships, key);
      if (absl::IsNotFound(stored.status())) {
        cached->parts.emplace(key, "");
        continue;
      }
      if (!stored.ok()) return stored.status();
      RETURN_IF_ERROR(MergeEntry(dyad, *stored, &cached->state));
      cached->parts.emplace(key, *std::move(stored));
      loaded = true;
    }
    if (loaded) SortSeries(&cached->state);
    return absl::OkStatus();
  }

  // Writes the entries loaded that changed (deleting those now gone) and
  // returns CurrentIndexOf the whole state, read back through the context.
  absl::StatusOr<v1::GoldsteinIndex> FlushParts(const std::string& dyad,
                                                Cached* cached) {
    // The bytes of every entry the group may have changed: each run of the
    // sorted series (the state holds only the runs it loaded), and each
    // list it loaded. An empty list has no entry.
    absl::btree_map<std::string, std::string> entries;
    {
      absl::btree_map<std::string, v1::RelationshipState> runs;
      for (const v1::GoldsteinMonth& month : cached->state.goldstein_monthly()) {
        *runs[MonthPartKey(dyad, month.year())].add_goldstein_monthly() = month;
      }
      for (const v1::ResolutionRecord& record : cached->state.resolutions()) {
        *runs[ResolutionPartKey(dyad, record.body(), record.year())]
             .add_resolutions() = record;
      }
      for (const auto& [key, run] : runs) {
        entries[key] = SerializeDeterministic(run);
      }
    }
    for (const StateList list : kStateLists) {
      std::string key = ListPartKey(dyad, list);
      if (!cached->parts.contains(key)) continue;
      std::string bytes = ListEntryOf(&cached->state, list);
      if (!bytes.empty()) entries[std::move(key)] = std::move(bytes);
    }
    // Only what changed is written: an agreement reads the policies, and
    // most of a large dyad's lists and years stay as they were.
    for (const auto& [key, bytes] : entries) {
      const auto stored = cached->parts.find(key);
      if (stored != cached->parts.end() && stored->second == bytes) continue;
      RETURN_IF_ERROR(
          context_->Put(ProjectionFamily::kRelationships, key, bytes));
    }
    for (const auto& [key, stored] : cached->parts) {
      if (!stored.empty() && !entries.contains(key)) {
        RETURN_IF_ERROR(
            context_->Delete(ProjectionFamily::kRelationships, key));
      }
    }
    if (!cached->removed) {
      // Events were only added: the latest month is the stored one or a
      // later one loaded in this group, and its window lies in its year
      // and the one before, which are loaded (unchanged if not loaded
      // before; they need not be written).
      absl::optional<YearMonth> latest = cached->stored_latest;
      const absl::optional<YearMonth> added = LatestMonth(cached->state);
      if (added.has_value() &&
          (!latest.has_value() || std::make_pair(added->year, added->month) >
                                      std::make_pair(latest->year, latest->month))) {
        latest = added;
      }
      if (!latest.has_value()) return CurrentIndexOf(v1::RelationshipState());
      RETURN_IF_ERROR(LoadEntries(dyad,
                                  {MonthPartKey(dyad, latest->year),
                                   MonthPartKey(dyad, latest->year - 1)},
                                  cached));
      return CurrentIndexOf(cached->state);
    }
    // Otherwise the trailing window from the entries: LatestMonth from the
    // newest year's entry, and the buckets of the years the window
    // touches (newest first; TrailingIndex keeps what is in the window).
    v1::RelationshipState window;
    std::optional<int64_t> latest;
    absl::Status error;
    RETURN_IF_ERROR(context_->ScanUntil(
        ProjectionFamily::kRelationships, MonthPartsPrefix(dyad),
        ProjectionContext::Order::kDescending,
        [&](absl::string_view, absl::string_view value) {
          v1::RelationshipState year;
          if (!year.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
            error = absl::DataLossError(absl::StrCat(
                "a stored year of the state of ", dyad, " is corrupt"));
            return false;
          }
          const auto& months = year.goldstein_monthly();
          if (months.empty()) return true;
          if (!latest.has_value()) {
            const YearMonth end = LatestMonthOfYear(months, months.size() - 1);
            latest = int64_t{end.year} * 12 + (end.month - 1);
          }
          for (int i = months.size() - 1; i >= 0; --i) {
            *window.add_goldstein_monthly() = months[i];
          }
          // Done once this year holds the window's first month.
          return int64_t{months[0].year()} * 12 > *latest - 11;
        }));
    RETURN_IF_ERROR(error);
    std::reverse(window.mutable_goldstein_monthly()->begin(),
                 window.mutable_goldstein_monthly()->end());
    return CurrentIndexOf(window);
  }

  absl::Status PutTimeline(const v1::Event& content, uint64_t position,
                           uint64_t content_position) {
    const DayInterval days = IntervalOf(content.occurred());
    const uint32_t span = SpanDays(days);
    const std::string value = format::TimelineValue(
        content_position, static_cast<uint8_t>(content.what_case()));
    const std::vector<std::string> subjects = SubjectsOf(content);
    for (const std::string& subject : TimelineSubjectsOf(subjects)) {
      RETURN_IF_ERROR(context_->Put(
          ProjectionFamily::kDyadTimeline,
          format::TimelineKey(subject, days.first, days.last, position),
          value));
    }
    if (span == 0) return absl::OkStatus();
    for (const std::string& subject : subjects) {
      RETURN_IF_ERROR(WidenLongestSpan(subject, span));
    }
    return absl::OkStatus();
  }

  // Raises the longest span of `subject`'s timeline to `span` days when it
  // is shorter (storage/format.h, LongestSpanKey).
  absl::Status WidenLongestSpan(const std::string& subject, uint32_t span) {
    const std::string key = format::LongestSpanKey(subject);
    absl::StatusOr<std::string> stored =
        context_->Get(ProjectionFamily::kDyadTimeline, key);
    if (stored.ok()) {
      if (stored->size() != 4) {
        return absl::DataLossError(absl::StrCat(
            "the longest span of the timeline of \"", subject,
            "\" is not 4 bytes"));
      }
      if (format::DecodeBigEndian32(stored->data()) >= span) {
        return absl::OkStatus();
      }
    } else if (!absl::IsNotFound(stored.status())) {
      return stored.status();
    }
    std::string value;
    format::PutBigEndian32(&value, span);
    return context_->Put(ProjectionFamily::kDyadTimeline, key, value);
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

  absl::Status PutFacets(const std::string& dyad, const v1::Event& content,
                         uint64_t content_position) {
    const std::string suffix = FacetSuffix(content);
    const std::string value = format::EncodeBigEndian64(content_position);
    for (const std::string& prefix : FacetPrefixesOf(dyad, content)) {
      RETURN_IF_ERROR(context_->Put(ProjectionFamily::kDyadTimeline,
                                    prefix + suffix, value));
    }
    return absl::OkStatus();
  }

  // The content an index or timeline entry's value points at.
  absl::StatusOr<v1::Event> ContentAt(absl::string_view value) {
    ASSIGN_OR_RETURN(const uint64_t position, ParsePosition(value, "index"));
    ASSIGN_OR_RETURN(const v1::RecordedEvent recorded,
                     context_->EventAt(position));
    return ContentOf(recorded);
  }

  // ApplyPart(part) with the events of the first `limit` entries under
  // `prefix` in `order` whose id `skip` does not reject.
  absl::Status FillFrom(
      const std::string& prefix, ProjectionContext::Order order, size_t limit,
      StatePart part, v1::RelationshipState* state,
      const std::function<bool(absl::string_view id)>& skip = nullptr) {
    std::vector<std::string> values;
    size_t seen = 0;
    RETURN_IF_ERROR(context_->ScanUntil(
        ProjectionFamily::kDyadTimeline, prefix, order,
        [&](absl::string_view key, absl::string_view value) {
          if (!skip || !skip(FacetId(key, prefix.size()))) {
            values.emplace_back(value);
          }
          return ++seen < limit;
        }));
    for (const std::string& value : values) {
      ASSIGN_OR_RETURN(const v1::Event content, ContentAt(value));
      ApplyPart(part, content, state);
    }
    return absl::OkStatus();
  }

  // first_event or last_event from the dyad's timeline: every entry of its
  // first (last) interval, since ties are decided by id, not position.
  absl::Status FillEnd(const std::string& dyad, ProjectionContext::Order order,
                       v1::RelationshipState* state) {
    const std::string prefix = format::TimelinePrefix(dyad);
    std::vector<std::string> values;
    std::string end_date;  // the BE32 days of the first entry seen
    RETURN_IF_ERROR(context_->ScanUntil(
        ProjectionFamily::kDyadTimeline, prefix, order,
        [&](absl::string_view key, absl::string_view value) {
          const absl::string_view date = key.substr(prefix.size(), 8);
          if (values.empty()) {
            end_date = std::string(date);
          } else if (date != end_date) {
            return false;
          }
          values.emplace_back(value);
          return true;
        }));
    for (const std::string& value : values) {
      ASSIGN_OR_RETURN(const v1::Event content, ContentAt(value));
      ApplyPart(StatePart::kEnds, content, state);
    }
    return absl::OkStatus();
  }

  // Refills what Remove took out of the state of `dyad`, from the index and
  // timeline as of this group (services/model/projection.h, Refill).
  absl::Status Fill(const std::string& dyad, const Refill& refill,
                    v1::RelationshipState* state) {
    using Order = ProjectionContext::Order;
    if (refill.first_event) {
      RETURN_IF_ERROR(FillEnd(dyad, Order::kAscending, state));
    }
    if (refill.last_event) {
      RETURN_IF_ERROR(FillEnd(dyad, Order::kDescending, state));
    }
    if (refill.last_meeting) {
      RETURN_IF_ERROR(FillFrom(FacetPrefix(dyad, kMeetingFacet),
                               Order::kDescending, 1, StatePart::kLastMeeting,
                               state));
    }
    // Policies before agreements is not needed (either keeps suspended_by
    // right), but it reads better: the suspensions are final sooner.
    for (const std::string& policy : refill.policies) {
      RETURN_IF_ERROR(FillFrom(FacetPrefix(dyad, kPolicyFacet, {policy}),
                               Order::kDescending, 1, StatePart::kPolicies,
                               state));
      RETURN_IF_ERROR(FillFrom(FacetPrefix(dyad, kHardeningFacet, {policy}),
                               Order::kDescending, 1, StatePart::kPolicies,
                               state));
    }
    if (refill.agreements) {
      RETURN_IF_ERROR(FillFrom(FacetPrefix(dyad, kAgreementFacet),
                               Order::kDescending, kMaxAgreements,
                               StatePart::kAgreements, state,
                               AmongKept(state->agreements())));
    }
    if (refill.statements) {
      RETURN_IF_ERROR(FillFrom(FacetPrefix(dyad, kStatementFacet),
                               Order::kDescending, kRecentStatements,
                               StatePart::kStatements, state,
                               AmongKept(state->recent_statements())));
    }
    for (const auto& [imposer, measure] : refill.sanctions) {
      RETURN_IF_ERROR(
          FillFrom(FacetPrefix(dyad, kSanctionFacet, {imposer, measure}),
                   Order::kDescending, 1, StatePart::kSanctions, state));
    }
    for (const auto& [body, year] : refill.resolutions) {
      RETURN_IF_ERROR(FillFrom(ResolutionFacetPrefix(dyad, body, year),
                               Order::kAscending,
                               std::numeric_limits<size_t>::max(),
                               StatePart::kResolutions, state));
    }
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
  const uint64_t checkpoint_events_;
  LeftStates* const left_;
  absl::flat_hash_map<std::string, Cached> states_;
};

}  // namespace

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

std::vector<std::string> TimelineSubjectsOf(
    const std::vector<std::string>& subjects) {
  // The event's dyads are among its subjects: an actor in one goes (a
  // subject without '-' is never a dyad, so DyadHasActor is false for it).
  std::vector<std::string> kept;
  for (const std::string& subject : subjects) {
    const bool in_a_dyad =
        !subject.empty() && subject.find('-') == std::string::npos &&
        std::any_of(subjects.begin(), subjects.end(),
                    [&subject](const std::string& other) {
                      return DyadHasActor(other, subject);
                    });
    if (!in_a_dyad) kept.push_back(subject);
  }
  return kept;
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
  return format::ByActivityKey(IntervalOf(state.last_event().occurred()).first,
                               state.dyad());
}

std::string ByIndexKeyOf(absl::string_view dyad,
                         const v1::GoldsteinIndex& index) {
  return format::ByIndexKey(static_cast<int32_t>(index.mean_tenths()), dyad);
}

class RelationshipProjector::Left final : public LeftStates {
 public:
  using LeftStates::LeftStates;
};

RelationshipProjector::RelationshipProjector(size_t answer_bytes,
                                             uint64_t checkpoint_events)
    : answers_(answer_bytes),
      checkpoint_events_(std::max<uint64_t>(1, checkpoint_events)),
      left_(std::make_unique<Left>(kMaxLeftStates)) {}

RelationshipProjector::~RelationshipProjector() = default;

absl::Status RelationshipProjector::Project(
    const std::vector<const v1::RecordedEvent*>& events,
    ProjectionContext* context) {
  GroupProjection group(context, checkpoint_events_, left_.get());
  for (const v1::RecordedEvent* recorded : events) {
    if (recorded->event().has_correction()) {
      RETURN_IF_ERROR(group.Correction(*recorded));
    } else {
      RETURN_IF_ERROR(group.Event(*recorded));
    }
  }
  RETURN_IF_ERROR(group.Flush());
  // Before the group is written: no reader has seen these states yet.
  if (!events.empty()) {
    group.ForEachDyad([this, at = events.back()->position()](
                          const std::string& dyad) {
      answers_.Changed(dyad, at);
    });
  }
  return absl::OkStatus();
}

}  // namespace annals::services
