#include "services/model/projection.h"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/model/goldstein.h"
#include "services/model/occurred_interval.h"
#include "services/model/state_order.h"

namespace annals::services {
namespace {

using google::protobuf::RepeatedPtrField;

v1::EventRef MakeRef(const v1::Event& event, int goldstein_tenths) {
  v1::EventRef ref;
  ref.set_event_id(event.id());
  ref.set_kind(std::string(KindName(event)));
  *ref.mutable_occurred() = event.occurred();
  ref.set_summary(event.summary());
  ref.set_goldstein_tenths(goldstein_tenths);
  return ref;
}

// ---------------------------------------------------------------------------
// Sorted repeated fields.

// Inserts a default element at `index`, shifting the rest up.
template <typename M>
M* InsertAt(RepeatedPtrField<M>* list, int index) {
  list->Add();
  for (int i = list->size() - 1; i > index; --i) list->SwapElements(i, i - 1);
  return list->Mutable(index);
}

// Adds `value` to the sorted set `set` unless it is there already.
void InsertSorted(RepeatedPtrField<std::string>* set, const std::string& value) {
  auto it = std::lower_bound(set->begin(), set->end(), value);
  if (it != set->end() && *it == value) return;
  *InsertAt(set, static_cast<int>(it - set->begin())) = value;
}

// The element of `list` (sorted by `key_of`) whose key is `key`; a new
// default element at its sorted place when there is none, which
// `*inserted` reports.
template <typename M, typename K, typename KeyFn>
M* FindOrInsert(RepeatedPtrField<M>* list, const K& key, KeyFn key_of,
                bool* inserted) {
  auto it = std::lower_bound(
      list->begin(), list->end(), key,
      [&key_of](const M& m, const K& k) { return key_of(m) < k; });
  const int index = static_cast<int>(it - list->begin());
  if (it != list->end() && !(key < key_of(*it))) {
    *inserted = false;
    return list->Mutable(index);
  }
  *inserted = true;
  return InsertAt(list, index);
}

// The two members of `dyad` ("JPN-PRK" -> {"JPN", "PRK"}).
std::pair<absl::string_view, absl::string_view> Members(
    absl::string_view dyad) {
  const size_t dash = dyad.find('-');
  if (dash == absl::string_view::npos) return {dyad, dyad};
  return {dyad.substr(0, dash), dyad.substr(dash + 1)};
}

// ---------------------------------------------------------------------------
// Per kind.

// A meeting of the actors that took place: planned ones are not
// considered, nor sessions of a body on the target actors (the targets did
// not necessarily take part).
bool TookPlace(const v1::Event& event) {
  return event.has_meeting() &&
         event.meeting().outcome() != v1::Meeting::OUTCOME_PLANNED &&
         event.meeting().type() != v1::Meeting::TYPE_SESSION;
}

bool IsLeadersMeeting(const v1::Event& event) {
  return TookPlace(event) &&
         event.meeting().level() == v1::Meeting::LEVEL_LEADERS;
}

// The last_meeting part of a meeting (not its count).
void KeepLastMeeting(const v1::Event& event, const v1::EventRef& ref,
                     v1::RelationshipState* state) {
  if (!TookPlace(event)) return;
  const v1::Meeting& m = event.meeting();
  if (!IsBefore(state->has_last_meeting(), state->last_meeting().event(), ref))
    return;
  v1::MeetingRecord* record = state->mutable_last_meeting();
  record->Clear();
  *record->mutable_event() = ref;
  record->set_type(m.type());
  record->set_level(m.level());
  record->set_format(m.format());
  record->set_place(m.place());
  record->set_outcome(m.outcome());
  *record->mutable_participants() = m.participants();
}

void ApplyMeeting(const v1::Event& event, const v1::EventRef& ref,
                  v1::RelationshipState* state) {
  if (IsLeadersMeeting(event)) {
    state->set_leaders_meeting_count(state->leaders_meeting_count() + 1);
  }
  KeepLastMeeting(event, ref, state);
}

void ApplyAgreement(const v1::Event& event, const v1::EventRef& ref,
                    v1::RelationshipState* state) {
  const v1::Agreement& a = event.agreement();
  auto* agreements = state->mutable_agreements();
  if (agreements->size() >= kMaxAgreements &&
      KeyOf(event) < KeyOf(agreements->Get(0).event())) {
    return;  // Older than every agreement kept.
  }
  bool inserted = false;
  v1::AgreementRecord* record = FindOrInsert(
      state->mutable_agreements(), KeyOf(event),
      [](const v1::AgreementRecord& r) { return KeyOf(r.event()); },
      &inserted);
  if (!inserted) return;  // The same event again: nothing new.
  *record->mutable_event() = ref;
  record->set_title(a.title());
  if (a.parties().empty()) {
    for (const std::string& s : event.source())
      InsertSorted(record->mutable_parties(), s);
    for (const std::string& t : event.target())
      InsertSorted(record->mutable_parties(), t);
  } else {
    for (const std::string& p : a.parties())
      InsertSorted(record->mutable_parties(), p);
  }
  *record->mutable_commitments() = a.commitments();
  UpdateSuspension(*state, record);
  if (agreements->size() > kMaxAgreements) {
    agreements->DeleteSubrange(0, agreements->size() - kMaxAgreements);
  }
}

void ApplyResolution(const v1::Event& event, const v1::EventRef& ref,
                     v1::RelationshipState* state) {
  using R = v1::ResolutionAction;
  const R& r = event.resolution();
  const int year = event.occurred().start().year();
  bool inserted = false;
  v1::ResolutionRecord* record = FindOrInsert(
      state->mutable_resolutions(),
      std::tuple<absl::string_view, int>(r.body(), year),
      [](const v1::ResolutionRecord& rec) {
        return std::tuple<absl::string_view, int>(rec.body(), rec.year());
      },
      &inserted);
  if (inserted) {
    record->set_body(r.body());
    record->set_year(year);
  }
  record->set_action_count(record->action_count() + 1);
  if (!r.symbol().empty()) InsertSorted(record->mutable_symbols(), r.symbol());
  if (!r.title().empty()) InsertSorted(record->mutable_titles(), r.title());
  for (const std::string& s : r.sponsors())
    InsertSorted(record->mutable_sponsors(), s);
  switch (r.action()) {
    case R::ACTION_TABLED:
      for (const std::string& s : event.source()) {
        InsertSorted(record->mutable_tabled_by(), s);
        InsertSorted(record->mutable_sponsors(), s);
      }
      break;
    case R::ACTION_CO_SPONSORED:
      for (const std::string& s : event.source()) {
        InsertSorted(record->mutable_co_sponsored_by(), s);
        InsertSorted(record->mutable_sponsors(), s);
      }
      break;
    case R::ACTION_DECLINED_TO_TABLE:
      for (const std::string& s : event.source())
        InsertSorted(record->mutable_declined_to_table(), s);
      break;
    case R::ACTION_ADOPTED:
    case R::ACTION_REJECTED:
    case R::ACTION_VETOED:
      if (IsBefore(record->has_decided_by(), record->decided_by(), ref)) {
        record->set_decision(r.action());
        record->set_adoption(r.adoption());
        if (r.adoption() == R::ADOPTION_RECORDED_VOTE) {
          *record->mutable_votes() = r.votes();
        } else {
          record->clear_votes();
        }
        *record->mutable_decided_by() = ref;
      }
      break;
    default:
      break;
  }
}

void ApplyStatement(const v1::Event& event, const v1::EventRef& ref,
                    v1::RelationshipState* state) {
  auto* list = state->mutable_recent_statements();
  // Most recent first: descending by (occurred sort key, id).
  const EventKey key = KeyOf(event);
  auto it = std::lower_bound(list->begin(), list->end(), key,
                             [](const v1::StatementRecord& r,
                                const EventKey& k) {
                               return k < KeyOf(r.event());
                             });
  if (it != list->end() && KeyOf(it->event()) == key) return;  // Again.
  const int index = static_cast<int>(it - list->begin());
  if (index >= kRecentStatements) return;
  const v1::Statement& s = event.statement();
  v1::StatementRecord* record = InsertAt(list, index);
  *record->mutable_event() = ref;
  *record->mutable_source() = event.source();
  record->set_speaker(s.speaker());
  record->set_on_behalf_of(s.on_behalf_of());
  record->set_channel(s.channel());
  record->set_stance(s.stance());
  record->set_quote(s.quote());
  while (list->size() > kRecentStatements) list->RemoveLast();
}

void ApplySanction(const v1::Event& event, const v1::EventRef& ref,
                   v1::RelationshipState* state) {
  using S = v1::Sanction;
  const S& s = event.sanction();
  const auto [first, second] = Members(state->dyad());
  for (const std::string& imposer : event.source()) {
    if (imposer != first && imposer != second) continue;
    const absl::string_view target = imposer == first ? second : first;
    for (const std::string& measure : s.measures()) {
      bool inserted = false;
      v1::SanctionMeasure* record = FindOrInsert(
          state->mutable_sanctions(),
          std::tuple<absl::string_view, absl::string_view>(imposer, measure),
          [](const v1::SanctionMeasure& m) {
            return std::tuple<absl::string_view, absl::string_view>(
                m.imposer(), m.measure());
          },
          &inserted);
      if (!inserted && !IsBefore(true, record->last_event(), ref)) continue;
      record->set_imposer(imposer);
      record->set_target(std::string(target));
      record->set_measure(measure);
      record->set_last_action(s.action());
      *record->mutable_last_event() = ref;
      record->set_legal_basis(s.legal_basis());
      record->set_in_force(s.action() == S::ACTION_IMPOSED ||
                           s.action() == S::ACTION_EXTENDED);
    }
  }
}

void ApplyPolicyChange(const v1::Event& event, const v1::EventRef& ref,
                       v1::RelationshipState* state) {
  const v1::PolicyChange& p = event.policy_change();
  bool inserted = false;
  v1::PolicyRecord* record = FindOrInsert(
      state->mutable_policies(), absl::string_view(p.policy()),
      [](const v1::PolicyRecord& r) { return absl::string_view(r.policy()); },
      &inserted);
  if (inserted) record->set_policy(p.policy());
  if (IsBefore(record->has_latest(), record->latest(), ref)) {
    record->set_direction(p.direction());
    *record->mutable_latest() = ref;
  }
  if (p.direction() == v1::PolicyChange::DIRECTION_HARDENING &&
      IsBefore(record->has_latest_hardening(), record->latest_hardening(),
               ref)) {
    *record->mutable_latest_hardening() = ref;
    for (v1::AgreementRecord& agreement : *state->mutable_agreements()) {
      if (agreement.title() == p.policy()) UpdateSuspension(*state, &agreement);
    }
  }
}

// The first_event / last_event part of any event.
void KeepEnds(const v1::EventRef& ref, v1::RelationshipState* state) {
  if (!state->has_first_event() || KeyOf(ref) < KeyOf(state->first_event())) {
    *state->mutable_first_event() = ref;
  }
  if (IsBefore(state->has_last_event(), state->last_event(), ref)) {
    *state->mutable_last_event() = ref;
  }
}

// Erases the elements of `list` for which `pred` holds; true when any was.
template <typename M, typename Pred>
bool EraseIf(RepeatedPtrField<M>* list, Pred pred) {
  // A partition (not remove_if): it permutes the pointers, so the erased
  // elements end up at the back, each owned once.
  const auto kept =
      std::stable_partition(list->pointer_begin(), list->pointer_end(),
                            [&pred](M* m) { return !pred(*m); });
  const int erased = static_cast<int>(list->pointer_end() - kept);
  list->DeleteSubrange(list->size() - erased, erased);
  return erased > 0;
}

// Adds `entry` to `list` unless it is there already.
template <typename T>
void AddOnce(std::vector<T>* list, T entry) {
  if (std::find(list->begin(), list->end(), entry) == list->end()) {
    list->push_back(std::move(entry));
  }
}

bool Refers(const v1::EventRef& ref, const v1::Event& event) {
  return ref.event_id() == event.id();
}

}  // namespace

void UpdateSuspension(const v1::RelationshipState& state,
                      v1::AgreementRecord* agreement) {
  agreement->clear_suspended_by();
  for (const v1::PolicyRecord& policy : state.policies()) {
    if (policy.policy() != agreement->title()) continue;
    if (policy.has_latest_hardening() &&
        IntervalOf(agreement->event().occurred()) <
            IntervalOf(policy.latest_hardening().occurred())) {
      *agreement->mutable_suspended_by() = policy.latest_hardening();
    }
    return;
  }
}

std::vector<std::string> DyadsOf(const v1::Event& event) {
  std::vector<std::string> dyads;
  auto add = [&dyads](const std::string& a, const std::string& b) {
    if (a == b) return;
    dyads.push_back(a < b ? absl::StrCat(a, "-", b) : absl::StrCat(b, "-", a));
  };
  // A resolution's sponsors act with its source: the body adopting a
  // resolution Japan sponsored is also an act of Japan towards its target.
  std::vector<std::string> sources(event.source().begin(), event.source().end());
  if (event.has_resolution()) {
    for (const std::string& sponsor : event.resolution().sponsors()) {
      if (std::find(sources.begin(), sources.end(), sponsor) == sources.end()) {
        sources.push_back(sponsor);
      }
    }
  }
  if (!event.target().empty()) {
    for (const std::string& s : sources) {
      for (const std::string& t : event.target()) add(s, t);
    }
  } else {
    for (size_t i = 0; i < sources.size(); ++i) {
      for (size_t j = i + 1; j < sources.size(); ++j) add(sources[i], sources[j]);
    }
  }
  std::sort(dyads.begin(), dyads.end());
  dyads.erase(std::unique(dyads.begin(), dyads.end()), dyads.end());
  return dyads;
}

bool DyadHasActor(absl::string_view dyad, absl::string_view actor) {
  const size_t dash = dyad.find('-');
  return dash != absl::string_view::npos &&
         (dyad.substr(0, dash) == actor || dyad.substr(dash + 1) == actor);
}

void Apply(const v1::Event& event, v1::RelationshipState* state) {
  if (event.has_correction() ||
      event.what_case() == v1::Event::WHAT_NOT_SET) {
    return;
  }
  const v1::EventRef ref = MakeRef(event, GoldsteinTenths(event));

  state->set_event_count(state->event_count() + 1);
  bool inserted = false;
  v1::KindCount* count = FindOrInsert(
      state->mutable_counts(), absl::string_view(ref.kind()),
      [](const v1::KindCount& c) { return absl::string_view(c.kind()); },
      &inserted);
  if (inserted) count->set_kind(ref.kind());
  count->set_count(count->count() + 1);

  KeepEnds(ref, state);
  for (const std::string& tag : event.tags()) {
    InsertSorted(state->mutable_tags(), tag);
    v1::TagCount* tagged = FindOrInsert(
        state->mutable_tag_counts(), absl::string_view(tag),
        [](const v1::TagCount& c) { return absl::string_view(c.tag()); },
        &inserted);
    if (inserted) tagged->set_tag(tag);
    tagged->set_count(tagged->count() + 1);
  }

  const YearMonth bucket = GoldsteinBucketOf(event.occurred());
  v1::GoldsteinMonth* month = FindOrInsert(
      state->mutable_goldstein_monthly(),
      std::tuple<int, int>(bucket.year, bucket.month),
      [](const v1::GoldsteinMonth& m) {
        return std::tuple<int, int>(m.year(), m.month());
      },
      &inserted);
  if (inserted) {
    month->set_year(bucket.year);
    month->set_month(bucket.month);
  }
  month->set_event_count(month->event_count() + 1);
  month->set_goldstein_sum_tenths(month->goldstein_sum_tenths() +
                                  ref.goldstein_tenths());

  switch (event.what_case()) {
    case v1::Event::kMeeting:
      ApplyMeeting(event, ref, state);
      break;
    case v1::Event::kAgreement:
      ApplyAgreement(event, ref, state);
      break;
    case v1::Event::kResolution:
      ApplyResolution(event, ref, state);
      break;
    case v1::Event::kStatement:
      ApplyStatement(event, ref, state);
      break;
    case v1::Event::kSanction:
      ApplySanction(event, ref, state);
      break;
    case v1::Event::kPolicyChange:
      ApplyPolicyChange(event, ref, state);
      break;
    default:  // military, humanitarian: counted and scored above.
      break;
  }
}

Refill Remove(const v1::Event& event, v1::RelationshipState* state) {
  Refill refill;
  if (event.has_correction() ||
      event.what_case() == v1::Event::WHAT_NOT_SET) {
    return refill;  // never applied
  }
  // Counts and sums: subtract.
  state->set_event_count(state->event_count() - 1);
  const std::string kind(KindName(event));
  EraseIf(state->mutable_counts(), [&kind](v1::KindCount& count) {
    if (count.kind() != kind) return false;
    count.set_count(count.count() - 1);
    return count.count() == 0;
  });
  const YearMonth bucket = GoldsteinBucketOf(event.occurred());
  const int tenths = GoldsteinTenths(event);
  EraseIf(state->mutable_goldstein_monthly(),
          [bucket, tenths](v1::GoldsteinMonth& month) {
            if (month.year() != bucket.year || month.month() != bucket.month)
              return false;
            month.set_event_count(month.event_count() - 1);
            month.set_goldstein_sum_tenths(month.goldstein_sum_tenths() -
                                           tenths);
            return month.event_count() == 0;
          });
  if (IsLeadersMeeting(event)) {
    state->set_leaders_meeting_count(state->leaders_meeting_count() - 1);
  }

  // Extremes, top N and unions: cleared when the event was what they kept.
  if (Refers(state->first_event(), event)) {
    state->clear_first_event();
    refill.first_event = true;
  }
  if (Refers(state->last_event(), event)) {
    state->clear_last_event();
    refill.last_event = true;
  }
  // A tag goes with the last event that carries it.
  for (const std::string& tag : event.tags()) {
    const bool gone =
        EraseIf(state->mutable_tag_counts(), [&tag](v1::TagCount& count) {
          if (count.tag() != tag) return false;
          count.set_count(count.count() - 1);
          return count.count() == 0;
        });
    if (gone) {
      EraseIf(state->mutable_tags(),
              [&tag](const std::string& t) { return t == tag; });
    }
  }
  switch (event.what_case()) {
    case v1::Event::kMeeting:
      if (Refers(state->last_meeting().event(), event)) {
        state->clear_last_meeting();
        refill.last_meeting = true;
      }
      break;
    case v1::Event::kAgreement:
      refill.agreements =
          EraseIf(state->mutable_agreements(), [&event](const auto& a) {
            return Refers(a.event(), event);
          });
      break;
    case v1::Event::kStatement:
      refill.statements = EraseIf(
          state->mutable_recent_statements(),
          [&event](const auto& s) { return Refers(s.event(), event); });
      break;
    case v1::Event::kResolution: {
      // Its sets are unions and its decision a maximum: the whole record
      // is gathered again.
      const std::string& body = event.resolution().body();
      const int year = event.occurred().start().year();
      EraseIf(state->mutable_resolutions(),
              [&body, year](const v1::ResolutionRecord& r) {
                return r.body() == body && r.year() == year;
              });
      refill.resolutions.emplace_back(body, year);
      break;
    }
    case v1::Event::kSanction: {
      const auto [first, second] = Members(state->dyad());
      for (const std::string& imposer : event.source()) {
        if (imposer != first && imposer != second) continue;
        for (const std::string& measure : event.sanction().measures()) {
          if (EraseIf(state->mutable_sanctions(),
                      [&](const v1::SanctionMeasure& m) {
                        return m.imposer() == imposer &&
                               m.measure() == measure &&
                               Refers(m.last_event(), event);
                      })) {
            AddOnce(&refill.sanctions, std::make_pair(imposer, measure));
          }
        }
      }
      break;
    }
    case v1::Event::kPolicyChange: {
      const std::string& policy = event.policy_change().policy();
      if (EraseIf(state->mutable_policies(), [&](const v1::PolicyRecord& r) {
            return r.policy() == policy && (Refers(r.latest(), event) ||
                                            Refers(r.latest_hardening(), event));
          })) {
        refill.policies.push_back(policy);
        // Suspensions follow the policy records (kept so after every step).
        for (v1::AgreementRecord& agreement : *state->mutable_agreements()) {
          if (agreement.title() == policy) UpdateSuspension(*state, &agreement);
        }
      }
      break;
    }
    default:
      break;
  }
  return refill;
}

void ApplyPart(StatePart part, const v1::Event& event,
               v1::RelationshipState* state) {
  if (event.has_correction() ||
      event.what_case() == v1::Event::WHAT_NOT_SET) {
    return;
  }
  const v1::EventRef ref = MakeRef(event, GoldsteinTenths(event));
  switch (part) {
    case StatePart::kEnds:
      KeepEnds(ref, state);
      break;
    case StatePart::kLastMeeting:
      KeepLastMeeting(event, ref, state);
      break;
    case StatePart::kAgreements:
      if (event.has_agreement()) ApplyAgreement(event, ref, state);
      break;
    case StatePart::kStatements:
      if (event.has_statement()) ApplyStatement(event, ref, state);
      break;
    case StatePart::kSanctions:
      if (event.has_sanction()) ApplySanction(event, ref, state);
      break;
    case StatePart::kPolicies:
      if (event.has_policy_change()) ApplyPolicyChange(event, ref, state);
      break;
    case StatePart::kResolutions:
      if (event.has_resolution()) ApplyResolution(event, ref, state);
      break;
  }
}

std::vector<v1::Event> EffectiveEvents(
    const std::vector<v1::RecordedEvent>& events) {
  std::vector<v1::Event> effective;
  std::vector<bool> retracted;
  absl::flat_hash_map<std::string, size_t> index_of;
  // The originals first, so that a correction finds its event wherever the
  // two are in `events`.
  for (const v1::RecordedEvent& recorded : events) {
    const v1::Event& event = recorded.event();
    if (event.has_correction()) continue;
    if (!index_of.try_emplace(event.id(), effective.size()).second) continue;
    effective.push_back(event);
    retracted.push_back(false);
  }
  // Then the corrections, in position order: the last one wins.
  for (const v1::RecordedEvent& recorded : events) {
    if (!recorded.event().has_correction()) continue;
    const v1::Correction& c = recorded.event().correction();
    auto it = index_of.find(c.corrects_event_id());
    if (it == index_of.end()) continue;
    const size_t i = it->second;
    switch (c.action()) {
      case v1::Correction::ACTION_AMEND:
        if (c.amended().has_correction()) break;
        effective[i] = c.amended();
        effective[i].set_id(c.corrects_event_id());
        retracted[i] = false;
        break;
      case v1::Correction::ACTION_RETRACT:
        retracted[i] = true;
        break;
      default:
        break;
    }
  }
  std::vector<v1::Event> result;
  result.reserve(effective.size());
  for (size_t i = 0; i < effective.size(); ++i) {
    if (!retracted[i]) result.push_back(std::move(effective[i]));
  }
  std::sort(result.begin(), result.end(),
            [](const v1::Event& a, const v1::Event& b) {
              return KeyOf(a) < KeyOf(b);
            });
  return result;
}

v1::RelationshipState BuildState(
    absl::string_view dyad, const std::vector<v1::Event>& effective_events) {
  v1::RelationshipState state;
  state.set_dyad(std::string(dyad));
  for (const v1::Event& event : effective_events) {
    ApplyIfTouches(dyad, event, &state);
  }
  return state;
}

void ApplyIfTouches(absl::string_view dyad, const v1::Event& event,
                    v1::RelationshipState* state) {
  if (event.has_correction()) return;
  const std::vector<std::string> dyads = DyadsOf(event);
  if (std::binary_search(dyads.begin(), dyads.end(), dyad)) {
    Apply(event, state);
  }
}

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    // Sizes first (SerializeWithCachedSizes uses them); this cannot fail:
    // proto3 messages have no required fields.
    message.ByteSizeLong();
    message.SerializeWithCachedSizes(&coded);
  }  // `coded` flushes into `bytes` here.
  return bytes;
}

YearMonth GoldsteinBucketOf(const v1::Occurred& occurred) {
  const DayInterval days = IntervalOf(occurred);
  const int year = static_cast<int>(days.first / 10000);
  const int month = static_cast<int>(days.first / 100 % 100);
  return days.first / 100 == days.last / 100 ? YearMonth{year, month}
                                             : YearMonth{year, 0};
}

absl::optional<YearMonth> LatestMonth(const v1::RelationshipState& state) {
  const auto& months = state.goldstein_monthly();
  if (months.empty()) return absl::nullopt;
  return LatestMonthOfYear(months, months.size() - 1);
}

YearMonth LatestMonthOfYear(
    const google::protobuf::RepeatedPtrField<v1::GoldsteinMonth>& months,
    int last) {
  const int year = months[last].year();
  int first = last;
  while (first > 0 && months[first - 1].year() == year) --first;
  // Sorted by (year, month): the year's month-0 bucket comes first.
  return months[first].month() == 0 ? YearMonth{year, 12}
                                    : YearMonth{year, months[last].month()};
}

GoldsteinWindow TrailingIndex(const v1::RelationshipState& state,
                              YearMonth end) {
  const int64_t last = int64_t{end.year} * 12 + (end.month - 1);
  const int64_t first = last - 11;
  const int first_year = end.month == 12 ? end.year : end.year - 1;
  GoldsteinWindow window;
  for (const v1::GoldsteinMonth& m : state.goldstein_monthly()) {
    if (m.month() < 1) {
      if (m.year() >= first_year && m.year() <= end.year) {
        window.unplaced_count += m.event_count();
      }
      continue;
    }
    const int64_t at = int64_t{m.year()} * 12 + (m.month() - 1);
    if (at < first || at > last) continue;
    window.event_count += m.event_count();
    window.sum_tenths += m.goldstein_sum_tenths();
  }
  if (window.event_count > 0) {
    const int64_t n = window.event_count;
    const int64_t s = window.sum_tenths;
    int64_t q = s / n;
    const int64_t r = s % n;  // Same sign as s.
    if (2 * (r < 0 ? -r : r) >= n) q += s < 0 ? -1 : 1;
    window.mean_tenths = q;
  }
  return window;
}

GoldsteinWindow CurrentIndex(const v1::RelationshipState& state) {
  const absl::optional<YearMonth> latest = LatestMonth(state);
  if (!latest.has_value()) return GoldsteinWindow{};
  return TrailingIndex(state, *latest);
}

v1::GoldsteinIndex ToIndex(const GoldsteinWindow& window,
                           absl::optional<YearMonth> end) {
  v1::GoldsteinIndex index;
  if (end.has_value()) {
    index.set_end_year(end->year);
    index.set_end_month(end->month);
  }
  index.set_event_count(window.event_count);
  index.set_sum_tenths(window.sum_tenths);
  index.set_mean_tenths(window.mean_tenths);
  index.set_unplaced_count(window.unplaced_count);
  return index;
}

v1::GoldsteinIndex CurrentIndexOf(const v1::RelationshipState& state) {
  return ToIndex(CurrentIndex(state), LatestMonth(state));
}

}  // namespace annals::services
