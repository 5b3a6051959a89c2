#include "services/relationships/refill_index.h"

#include <algorithm>

#include "services/model/occurred_interval.h"
#include "storage/format.h"

namespace annals::services {
namespace {

namespace format = storage::format;

constexpr char kRefillTag = 0x03;

}  // namespace

std::string FacetPrefix(absl::string_view dyad, char facet,
                        std::initializer_list<absl::string_view> fields) {
  std::string key(dyad);
  key.push_back('\0');
  key.push_back(kRefillTag);
  key.push_back(facet);
  for (absl::string_view field : fields) {
    format::PutBigEndian32(&key, static_cast<uint32_t>(field.size()));
    key.append(field.data(), field.size());
  }
  return key;
}

std::string ResolutionFacetPrefix(absl::string_view dyad,
                                  absl::string_view body, int year) {
  std::string key = FacetPrefix(dyad, kResolutionFacet, {body});
  format::PutBigEndian32(&key, static_cast<uint32_t>(year));
  return key;
}

std::vector<std::string> FacetPrefixesOf(absl::string_view dyad,
                                         const v1::Event& content) {
  std::vector<std::string> prefixes;
  switch (content.what_case()) {
    case v1::Event::kMeeting:
      if (content.meeting().outcome() != v1::Meeting::OUTCOME_PLANNED) {
        prefixes.push_back(FacetPrefix(dyad, kMeetingFacet));
      }
      break;
    case v1::Event::kAgreement:
      prefixes.push_back(FacetPrefix(dyad, kAgreementFacet));
      break;
    case v1::Event::kStatement:
      prefixes.push_back(FacetPrefix(dyad, kStatementFacet));
      break;
    case v1::Event::kSanction: {
      const size_t dash = dyad.find('-');
      for (const std::string& imposer : content.source()) {
        if (imposer != dyad.substr(0, dash) && imposer != dyad.substr(dash + 1))
          continue;
        for (const std::string& measure : content.sanction().measures()) {
          prefixes.push_back(
              FacetPrefix(dyad, kSanctionFacet, {imposer, measure}));
        }
      }
      break;
    }
    case v1::Event::kPolicyChange: {
      const v1::PolicyChange& p = content.policy_change();
      prefixes.push_back(FacetPrefix(dyad, kPolicyFacet, {p.policy()}));
      if (p.direction() == v1::PolicyChange::DIRECTION_HARDENING) {
        prefixes.push_back(FacetPrefix(dyad, kHardeningFacet, {p.policy()}));
      }
      break;
    }
    case v1::Event::kResolution:
      prefixes.push_back(
          ResolutionFacetPrefix(dyad, content.resolution().body(),
                                content.occurred().start().year()));
      break;
    default:
      break;
  }
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  return prefixes;
}

std::string FacetSuffix(const v1::Event& content) {
  const DayInterval days = IntervalOf(content.occurred());
  std::string suffix;
  format::PutBigEndian32(&suffix, days.first);
  format::PutBigEndian32(&suffix, days.last);
  suffix.append(content.id());
  return suffix;
}

absl::string_view FacetId(absl::string_view key, size_t prefix_size) {
  return key.size() >= prefix_size + 8 ? key.substr(prefix_size + 8)
                                       : absl::string_view();
}

}  // namespace annals::services
