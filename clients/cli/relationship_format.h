// Rendering relationship states, listings and timelines for people: the
// text output of `annals relationship`, `annals relationships` and `annals
// timeline`. Pure functions of the protos (proto/annals/v1/query.proto,
// relationship.proto); thread-safe.
//
// Dates are printed at the precision they were recorded with ("2002-09",
// "2019-03-13", "2018"); Goldstein scores and indexes, which the protos keep
// in tenths, as signed decimals ("+2.3", "-6.0", "0.0").
#ifndef ANNALS_CLIENTS_CLI_RELATIONSHIP_FORMAT_H_
#define ANNALS_CLIENTS_CLI_RELATIONSHIP_FORMAT_H_

#include <cstdint>
#include <string>

#include "annals/v1/event.pb.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/relationship.pb.h"

namespace annals {

// Tenths as a signed decimal: 23 -> "+2.3", -60 -> "-6.0", 0 -> "0.0".
std::string FormatTenths(int64_t tenths);

// "+2.3 over 2018-04..2019-03 (12 events)", then "; 2 events of its years
// not dated to one month, left out" when there are such; "none (no
// events)" when the index has no end month.
std::string FormatIndex(const v1::GoldsteinIndex& index);

// Several lines, one topic each, for one dyad: the counts, first and last
// event, last meeting, leaders' meetings, agreements, the resolution record
// per body and year, sanctions (in force, then the others), recent
// statements, policies, tags, the index and the last `months` entries of the
// monthly series. A state with no events is one line ("JPN-USA: no events").
// Ends without a newline.
std::string FormatRelationship(const v1::RelationshipState& state,
                               const v1::GoldsteinIndex& index, int months = 6);

// One line per dyad of a listing: "JPN-PRK: 57 events 1978..2019-06, index
// -0.4 over ..., last meeting 2014-05-26 Stockholm (senior officials)".
std::string FormatRelationshipSummary(const v1::RelationshipSummary& summary);

// One line per timeline entry, in the style of FormatEventLine:
// "#12 JPN-PRK 2002-09 meeting JPN>PRK koizumi-visits-pyongyang (+4.0): ..."
// followed by " [amended at 90]" when a correction is in effect, and
// preceded by "~" when the event only overlaps the range asked for.
std::string FormatTimelineEntry(const v1::TimelineEntry& entry);

// What `annals admin rebuild` prints: whether the stored projections matched
// the log, the counts of differences and the first one.
std::string FormatRebuildReport(const v1::RebuildProjectionsResponse& report);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_RELATIONSHIP_FORMAT_H_
