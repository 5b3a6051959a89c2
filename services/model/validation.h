// Validation of requests and events, before anything is queued for the
// writer. Every check names the offending field by its path in the request
// ("events[2].occurred.start.month") so that a user can fix all of them at
// once.
#ifndef ANNALS_SERVICES_MODEL_VALIDATION_H_
#define ANNALS_SERVICES_MODEL_VALIDATION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/event_log.pb.h"
#include "google/protobuf/message.h"
#include "proto/rpc_status.h"
#include "storage/event_log.h"

namespace annals::services {

// Size limits of requests. Defaults are the server's flag defaults.
struct Limits {
  size_t max_append_events = 1000;
  size_t max_event_bytes = 64 << 10;
  size_t max_read_limit = 1000;
};

// True when `code` is an ISO 3166-1 alpha-3 country code (current,
// upper-case: "JPN", "PRK") or an organisation code annals knows ("EU",
// "UN", "UNHRC", "UNGA", "UNSC", ...). See actors.cc for the list.
bool IsKnownActor(absl::string_view code);

// True when `stream` is 1 to 128 characters from [A-Za-z0-9._:-].
bool IsValidStreamName(absl::string_view stream);

// Appends to `out` one violation per problem of `event`, each field path
// prefixed by `path` ("events[0]"). Checks every rule documented in
// proto/annals/v1/event.proto: required fields, actor codes, dates and
// their precision, the kind-specific rules, CAMEO code form, tags, sources.
void ValidateEvent(const v1::Event& event, absl::string_view path,
                   std::vector<rpc::FieldViolation>* out);

// Appends to `out` one violation per problem of `date` (year 1-9999, month
// 0-12, day 0 or valid for the month, a day only with a month), each named
// `path` + ".year" / ".month" / ".day". True when valid.
bool ValidateDate(const v1::Date& date, absl::string_view path,
                  std::vector<rpc::FieldViolation>* out);

// Fills in what the server derives before recording: occurred.precision
// (and the same for a correction's amended event). Requires a valid event.
void NormalizeEvent(v1::Event* event);

// The primary dyad of `event`: source[0] and target[0] sorted and joined by
// "-" ("JPN-PRK"); with no target, the first two distinct sources; a single
// actor alone is its own stream. Requires a valid event.
std::string PrimaryDyad(const v1::Event& event);

// OK, or INVALID_ARGUMENT naming every field `request` holds that its
// schema does not know, at any depth ("events[0].meeting: unknown field
// 999"; the request's own are named by its type), and every text field of
// an annals.v1.Event in it holding a control character other than newline
// and tab (C0, DEL, C1 U+0080 to U+009F), with its code point. Every
// request is checked so (services/rpc/raw_request.h) before any other rule:
// such bytes would otherwise be stored, signed and served for ever. A
// reflection walk; implemented in validation_fields.cc.
absl::Status CheckRequestFields(const google::protobuf::Message& request);

// Validates `request` completely and turns it into a batch for the log:
// stream (given or derived), expected version, normalized events (moved
// out of `request`).
// INVALID_ARGUMENT listing every violation (see rpc::InvalidArgument);
// RESOURCE_EXHAUSTED when there are more than max_append_events events or
// an event is larger than max_event_bytes (naming the field). Implemented,
// with PrimaryDyad and IsValidStreamName, in append_request.cc.
absl::StatusOr<storage::AppendBatch> ToAppendBatch(
    v1::AppendRequest request, const Limits& limits);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_VALIDATION_H_
