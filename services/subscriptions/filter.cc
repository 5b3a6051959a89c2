#include "services/subscriptions/filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "proto/event_kind.h"
#include "services/model/validation.h"

namespace annals::services {
namespace {

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& codes,
              const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool IsValidTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > 64) return false;
  for (char c : tag) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string Quote(absl::string_view text) { return absl::StrCat("\"", text, "\""); }

}  // namespace

std::string ParseDyad(absl::string_view text, std::string* problem) {
  std::vector<absl::string_view> codes = absl::StrSplit(text, '-');
  if (codes.size() != 2) {
    *problem = absl::StrCat(
        "must be two actor codes joined by \"-\" (e.g. \"JPN-PRK\"), got ",
        Quote(text));
    return "";
  }
  for (absl::string_view code : codes) {
    if (!IsKnownActor(code)) {
      *problem = absl::StrCat("unknown actor code ", Quote(code), " in ",
                              Quote(text));
      return "";
    }
  }
  if (codes[0] == codes[1]) {
    *problem = absl::StrCat("must name two different actors, got ", Quote(text));
    return "";
  }
  if (codes[1] < codes[0]) std::swap(codes[0], codes[1]);
  return absl::StrCat(codes[0], "-", codes[1]);
}

const std::vector<std::string>& EventKindNames() {
  static const std::vector<std::string>* const names = [] {
    auto* names = new std::vector<std::string>;
    const google::protobuf::OneofDescriptor* what =
        v1::Event::descriptor()->FindOneofByName("what");
    for (int i = 0; i < what->field_count(); ++i) {
      names->push_back(what->field(i)->name());
    }
    return names;
  }();
  return *names;
}

EventFilter EventFilter::Parse(const v1::SubscriptionFilter& filter,
                               absl::string_view path,
                               std::vector<rpc::FieldViolation>* out) {
  EventFilter parsed;
  auto field = [path](absl::string_view name) {
    return absl::StrCat(path, ".", name);
  };
  if (!filter.stream().empty()) {
    if (IsValidStreamName(filter.stream())) {
      parsed.stream_ = filter.stream();
    } else {
      out->push_back({field("stream"),
                      absl::StrCat("must be 1 to 128 characters from "
                                   "[A-Za-z0-9._:-], got ",
                                   Quote(filter.stream()))});
    }
  }
  if (!filter.dyad().empty()) {
    std::string problem;
    const std::string dyad = ParseDyad(filter.dyad(), &problem);
    if (dyad.empty()) {
      out->push_back({field("dyad"), problem});
    } else {
      const size_t dash = dyad.find('-');
      parsed.dyad_a_ = dyad.substr(0, dash);
      parsed.dyad_b_ = dyad.substr(dash + 1);
    }
  }
  if (!filter.actor().empty()) {
    if (IsKnownActor(filter.actor())) {
      parsed.actor_ = filter.actor();
    } else {
      out->push_back({field("actor"), absl::StrCat("unknown actor code ",
                                                   Quote(filter.actor()))});
    }
  }
  const std::vector<std::string>& kinds = EventKindNames();
  for (int i = 0; i < filter.kinds_size(); ++i) {
    const std::string& kind = filter.kinds(i);
    const std::string name = absl::StrCat(field("kinds"), "[", i, "]");
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      out->push_back({name, absl::StrCat("unknown kind ", Quote(kind),
                                         "; one of: ",
                                         absl::StrJoin(kinds, ", "))});
    } else if (!parsed.kinds_.insert(kind).second) {
      out->push_back({name, absl::StrCat("repeats ", Quote(kind))});
    }
  }
  for (int i = 0; i < filter.tags_size(); ++i) {
    const std::string& tag = filter.tags(i);
    const std::string name = absl::StrCat(field("tags"), "[", i, "]");
    if (!IsValidTag(tag)) {
      out->push_back(
          {name, absl::StrCat("must be 1 to 64 lower-case characters from "
                              "[a-z0-9-], got ",
                              Quote(tag))});
    } else if (!parsed.tags_.insert(tag).second) {
      out->push_back({name, absl::StrCat("repeats ", Quote(tag))});
    }
  }
  parsed.all_ = parsed.stream_.empty() && parsed.dyad_a_.empty() &&
                parsed.actor_.empty() && parsed.kinds_.empty() &&
                parsed.tags_.empty();
  return parsed;
}

bool EventFilter::Matches(const v1::RecordedEvent& recorded) const {
  if (all_) return true;
  const v1::Event& event = recorded.event();
  if (!stream_.empty() && recorded.stream() != stream_) return false;
  if (!dyad_a_.empty()) {
    // The same pairs as DyadsOf (services/model/projection.h): {source,
    // target}, or pairs among the sources when there is no target.
    const bool touches =
        event.target().empty()
            ? Contains(event.source(), dyad_a_) &&
                  Contains(event.source(), dyad_b_)
            : (Contains(event.source(), dyad_a_) &&
               Contains(event.target(), dyad_b_)) ||
                  (Contains(event.source(), dyad_b_) &&
                   Contains(event.target(), dyad_a_));
    if (!touches) return false;
  }
  if (!actor_.empty() && !Contains(event.source(), actor_) &&
      !Contains(event.target(), actor_)) {
    return false;
  }
  if (!kinds_.empty() && !kinds_.contains(KindName(event))) return false;
  if (!tags_.empty() &&
      std::none_of(event.tags().begin(), event.tags().end(),
                   [this](const std::string& tag) { return tags_.contains(tag); })) {
    return false;
  }
  return true;
}

}  // namespace annals::services
