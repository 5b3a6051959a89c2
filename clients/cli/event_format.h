// Reading events from text and rendering recorded events for people: the
// parts of the annals CLI that are worth testing on their own.
#ifndef ANNALS_CLIENTS_CLI_EVENT_FORMAT_H_
#define ANNALS_CLIENTS_CLI_EVENT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/event_log.pb.h"
#include "proto/event_kind.h"

namespace annals {

// The events in `input`: JSON objects in protobuf's canonical JSON mapping of
// annals.v1.Event, one after another — JSON Lines, or pretty-printed
// objects. INVALID_ARGUMENT naming the line where the bad object starts and
// what is wrong ("line 3: ...") on malformed JSON or unknown fields.
absl::StatusOr<std::vector<v1::Event>> ParseEvents(absl::string_view input);

// Sets the expected version of `request` from the CLI spelling: "any",
// "none", "exists" or a decimal version. INVALID_ARGUMENT otherwise.
absl::Status SetExpectedVersion(absl::string_view expect,
                                v1::AppendRequest* request);

// "2002-09-17", "2018-03", "2019"; a range as "2014-05-26..2014-05-28".
std::string FormatOccurred(const v1::Occurred& occurred);

// Recorded text may hold control characters (a log written before they
// were refused): what follows writes them escaped ("\u001b"), never raw.

// One line per recorded event:
// "#12 JPN-PRK v3 2002-09-17 meeting JPN>PRK koizumi-kim-2002: Koizumi ..."
std::string FormatEventLine(const v1::RecordedEvent& event);

// Several lines: the envelope, then the event as indented JSON.
std::string FormatEventDetail(const v1::RecordedEvent& event);

// "appended 1000 events to JPN-PRK: positions 7–1006 (stream version
// 1003)": runs of consecutive positions as ranges (those of one append
// always are one run).
std::string FormatAppendResponse(const v1::AppendResponse& response);

// "7–9, 12, 14–15": `positions` in runs of consecutive values.
std::string FormatPositionRanges(
    const google::protobuf::RepeatedField<uint64_t>& positions);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_EVENT_FORMAT_H_
