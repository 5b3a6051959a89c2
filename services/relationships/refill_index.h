// The refill index (storage/format.h, tag 0x03 of dyad_timeline): per
// dyad, the events each refill of a correction needs (services/model/
// projection.h, Refill), keyed so that the one(s) wanted come first or
// last:
//
//   dyad || 0x00 || 0x03 || facet || fields || BE32 first day ||
//   BE32 last day || id  ->  BE64 position of the content
//
// Fields are length-prefixed (BE32 length || bytes), so no field can run
// into the next; the id ends the key, so key order within a facet is the
// projection's (occurred interval, id) order. The relationship projector
// (projector.h) writes the entries and reads them back to refill a state.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_REFILL_INDEX_H_
#define ANNALS_SERVICES_RELATIONSHIPS_REFILL_INDEX_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"

namespace annals::services {

inline constexpr char kMeetingFacet = 'm';     // meetings that took place
inline constexpr char kAgreementFacet = 'a';
inline constexpr char kStatementFacet = 's';
inline constexpr char kSanctionFacet = 'x';    // fields: imposer, measure
inline constexpr char kPolicyFacet = 'p';      // fields: policy
inline constexpr char kHardeningFacet = 'h';   // fields: policy (hardening)
inline constexpr char kResolutionFacet = 'r';  // fields: body, BE32 year

// dyad || 0x00 || 0x03 || facet || each field, length-prefixed.
std::string FacetPrefix(absl::string_view dyad, char facet,
                        std::initializer_list<absl::string_view> fields = {});

// The prefix of the resolution events of `body` in `year`.
std::string ResolutionFacetPrefix(absl::string_view dyad,
                                  absl::string_view body, int year);

// The facet prefixes `content` is listed under in `dyad` (one of its
// dyads). Sorted, no repeats.
std::vector<std::string> FacetPrefixesOf(absl::string_view dyad,
                                         const v1::Event& content);

// The part of a facet key after its prefix: BE32 first day || BE32 last
// day || id.
std::string FacetSuffix(const v1::Event& content);

// The id at the end of a facet key whose prefix is `prefix_size` bytes.
absl::string_view FacetId(absl::string_view key, size_t prefix_size);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_REFILL_INDEX_H_
