// Errors as annals reports them: absl::Status values carrying google.rpc
// detail messages as payloads, and the one conversion to and from the gRPC
// wire status (google.rpc.Status in `grpc-status-details-bin`).
//
// Domain code builds errors with the functions below; service handlers
// convert once with ToGrpcStatus; clients convert back with FromGrpcStatus
// so that the details survive the round trip.
#ifndef ANNALS_PROTO_RPC_STATUS_H_
#define ANNALS_PROTO_RPC_STATUS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "google/rpc/error_details.pb.h"
#include "grpcpp/support/status.h"

namespace annals::rpc {

// Type URLs of the payloads (the google.protobuf.Any type URL of each detail).
inline constexpr absl::string_view kBadRequestUrl =
    "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kErrorInfoUrl =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kRetryInfoUrl =
    "type.googleapis.com/google.rpc.RetryInfo";
// ErrorInfo.domain of every annals error.
inline constexpr absl::string_view kDomain = "annals";

// What an error echoes back at most, so that a client can always read it
// (gRPC clients refuse metadata larger than 8 KiB by default): the first
// field violations, at most kMaxViolations of them and kMaxViolationBytes
// of their text, then one saying how many more there are; fields and
// ErrorInfo metadata values of at most kMaxFieldBytes, descriptions of at
// most kMaxDescriptionBytes, and a message of at most kMaxMessageBytes
// (bytes of UTF-8). What is cut ends with "…".
inline constexpr size_t kMaxViolations = 20;
inline constexpr size_t kMaxViolationBytes = 2048;
inline constexpr size_t kMaxFieldBytes = 64;
inline constexpr size_t kMaxDescriptionBytes = 160;
inline constexpr size_t kMaxMessageBytes = 512;

struct FieldViolation {
  std::string field;        // path in the request: "events[0].summary"
  std::string description;  // what is wrong with it
};

// INVALID_ARGUMENT whose message lists the violations ("events[0].summary:
// required; ...") and whose BadRequest payload carries them one by one,
// both bounded (kMaxViolations and the limits above).
// Requires: !violations.empty().
absl::Status InvalidArgument(const std::vector<FieldViolation>& violations);

// `code` with an ErrorInfo payload {reason, domain "annals", metadata}.
absl::Status WithErrorInfo(absl::StatusCode code, absl::string_view message,
                           absl::string_view reason,
                           const std::vector<std::pair<std::string, std::string>>&
                               metadata);

// FAILED_PRECONDITION, reason WRONG_EXPECTED_VERSION, metadata stream,
// expected (as the request put it: "any", "no_stream", "stream_exists" or a
// number) and current_version.
absl::Status WrongExpectedVersion(absl::string_view stream,
                                  absl::string_view expected,
                                  uint64_t current_version);

// ALREADY_EXISTS, reason DUPLICATE_EVENT_ID, metadata event_id and position.
absl::Status DuplicateEventId(absl::string_view event_id, uint64_t position,
                              absl::string_view why);

// `status` with a RetryInfo payload: the client may try again after
// `delay` (the hint of a RESOURCE_EXHAUSTED that is only momentary).
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// The RetryInfo delay of a status, when it has one.
absl::optional<absl::Duration> RetryDelay(const absl::Status& status);

// The field violations of a status (empty when it has no BadRequest).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);
// The ErrorInfo of a status, when it has one.
bool GetErrorInfo(const absl::Status& status, google::rpc::ErrorInfo* info);

// The gRPC status of `status`: same code and message, every payload as a
// google.protobuf.Any detail of a google.rpc.Status; message, BadRequest and
// ErrorInfo bounded as above whoever built them.
grpc::Status ToGrpcStatus(const absl::Status& status);
// The inverse: the details of `status` become payloads again.
absl::Status FromGrpcStatus(const grpc::Status& status);

// "FAILED_PRECONDITION: stream JPN-PRK is at version 3, expected 1" — the
// one line the CLI prints for an error.
std::string OneLine(const absl::Status& status);

}  // namespace annals::rpc

#endif  // ANNALS_PROTO_RPC_STATUS_H_
