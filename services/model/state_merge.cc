#include "services/model/state_merge.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "services/model/projection.h"
#include "services/model/state_order.h"

namespace annals::services {
namespace {

using google::protobuf::RepeatedPtrField;

// Merges `from` into `into`, both sorted by `key_of` without repeated
// keys: an element whose key is only in `from` is copied in its place,
// and `combine(from_element, into_element)` merges two of the same key.
template <typename M, typename KeyFn, typename Combine>
void MergeByKey(const RepeatedPtrField<M>& from, RepeatedPtrField<M>* into,
                KeyFn key_of, Combine combine) {
  if (from.empty()) return;
  RepeatedPtrField<M> merged;
  merged.Reserve(from.size() + into->size());
  int i = 0, j = 0;
  while (i < from.size() || j < into->size()) {
    if (j == into->size() ||
        (i < from.size() && key_of(from.Get(i)) < key_of(into->Get(j)))) {
      *merged.Add() = from.Get(i++);
    } else if (i == from.size() || key_of(into->Get(j)) < key_of(from.Get(i))) {
      std::swap(*merged.Add(), *into->Mutable(j++));
    } else {
      M* kept = merged.Add();
      std::swap(*kept, *into->Mutable(j++));
      combine(from.Get(i++), kept);
    }
  }
  into->Swap(&merged);
}

// The sorted union of two sorted sets without repeats.
void MergeSet(const RepeatedPtrField<std::string>& from,
              RepeatedPtrField<std::string>* into) {
  MergeByKey(from, into, [](const std::string& s) -> const std::string& {
    return s;
  }, [](const std::string&, std::string*) {});
}

void MergeResolution(const v1::ResolutionRecord& from,
                     v1::ResolutionRecord* into) {
  into->set_action_count(into->action_count() + from.action_count());
  MergeSet(from.symbols(), into->mutable_symbols());
  MergeSet(from.titles(), into->mutable_titles());
  MergeSet(from.sponsors(), into->mutable_sponsors());
  MergeSet(from.tabled_by(), into->mutable_tabled_by());
  MergeSet(from.co_sponsored_by(), into->mutable_co_sponsored_by());
  MergeSet(from.declined_to_table(), into->mutable_declined_to_table());
  if (from.has_decided_by() &&
      IsBefore(into->has_decided_by(), into->decided_by(), from.decided_by())) {
    into->set_decision(from.decision());
    into->set_adoption(from.adoption());
    if (from.has_votes()) {
      *into->mutable_votes() = from.votes();
    } else {
      into->clear_votes();
    }
    *into->mutable_decided_by() = from.decided_by();
  }
}

void MergePolicy(const v1::PolicyRecord& from, v1::PolicyRecord* into) {
  if (from.has_latest() &&
      IsBefore(into->has_latest(), into->latest(), from.latest())) {
    into->set_direction(from.direction());
    *into->mutable_latest() = from.latest();
  }
  if (from.has_latest_hardening() &&
      IsBefore(into->has_latest_hardening(), into->latest_hardening(),
               from.latest_hardening())) {
    *into->mutable_latest_hardening() = from.latest_hardening();
  }
}

// The descending order of events, for lists kept most recent first.
struct Descending {
  EventKey key;
  bool operator<(const Descending& other) const { return other.key < key; }
};

// Both lists are the top `limit` of their sets in event order (ascending
// when `ascending`, else descending, most recent first): the top `limit`
// of the union.
template <typename M>
void MergeTop(const RepeatedPtrField<M>& from, RepeatedPtrField<M>* into,
              int limit, bool ascending) {
  auto same = [](const M&, M*) {};  // never: the sets are disjoint
  if (ascending) {
    MergeByKey(from, into, [](const M& m) { return KeyOf(m.event()); }, same);
    if (into->size() > limit) into->DeleteSubrange(0, into->size() - limit);
  } else {
    MergeByKey(from, into,
               [](const M& m) { return Descending{KeyOf(m.event())}; }, same);
    if (into->size() > limit) {
      into->DeleteSubrange(limit, into->size() - limit);
    }
  }
}

}  // namespace

void MergeState(const v1::RelationshipState& from, v1::RelationshipState* into) {
  into->set_event_count(into->event_count() + from.event_count());
  MergeByKey(from.counts(), into->mutable_counts(),
             [](const v1::KindCount& c) -> const std::string& { return c.kind(); },
             [](const v1::KindCount& f, v1::KindCount* i) {
               i->set_count(i->count() + f.count());
             });
  if (from.has_first_event() &&
      (!into->has_first_event() ||
       KeyOf(from.first_event()) < KeyOf(into->first_event()))) {
    *into->mutable_first_event() = from.first_event();
  }
  if (from.has_last_event() &&
      IsBefore(into->has_last_event(), into->last_event(), from.last_event())) {
    *into->mutable_last_event() = from.last_event();
  }
  if (from.has_last_meeting() &&
      IsBefore(into->has_last_meeting(), into->last_meeting().event(),
               from.last_meeting().event())) {
    *into->mutable_last_meeting() = from.last_meeting();
  }
  into->set_leaders_meeting_count(into->leaders_meeting_count() +
                                  from.leaders_meeting_count());
  MergeTop(from.agreements(), into->mutable_agreements(), kMaxAgreements,
           /*ascending=*/true);
  MergeByKey(from.resolutions(), into->mutable_resolutions(),
             [](const v1::ResolutionRecord& r) {
               return std::tuple<const std::string&, int>(r.body(), r.year());
             },
             MergeResolution);
  MergeByKey(from.sanctions(), into->mutable_sanctions(),
             [](const v1::SanctionMeasure& m) {
               return std::tuple<const std::string&, const std::string&>(
                   m.imposer(), m.measure());
             },
             [](const v1::SanctionMeasure& f, v1::SanctionMeasure* i) {
               if (IsBefore(true, i->last_event(), f.last_event())) *i = f;
             });
  MergeTop(from.recent_statements(), into->mutable_recent_statements(),
           kRecentStatements, /*ascending=*/false);
  MergeSet(from.tags(), into->mutable_tags());
  MergeByKey(from.tag_counts(), into->mutable_tag_counts(),
             [](const v1::TagCount& c) -> const std::string& { return c.tag(); },
             [](const v1::TagCount& f, v1::TagCount* i) {
               i->set_count(i->count() + f.count());
             });
  MergeByKey(from.goldstein_monthly(), into->mutable_goldstein_monthly(),
             [](const v1::GoldsteinMonth& m) {
               return std::make_pair(m.year(), m.month());
             },
             [](const v1::GoldsteinMonth& f, v1::GoldsteinMonth* i) {
               i->set_event_count(i->event_count() + f.event_count());
               i->set_goldstein_sum_tenths(i->goldstein_sum_tenths() +
                                           f.goldstein_sum_tenths());
             });
  MergeByKey(from.policies(), into->mutable_policies(),
             [](const v1::PolicyRecord& p) -> const std::string& {
               return p.policy();
             },
             MergePolicy);
  // Suspensions follow the merged policy records.
  for (v1::AgreementRecord& agreement : *into->mutable_agreements()) {
    UpdateSuspension(*into, &agreement);
  }
}

}  // namespace annals::services
