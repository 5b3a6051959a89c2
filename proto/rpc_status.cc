#include "proto/rpc_status.h"

#include <utility>


#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/status.pb.h"
#include "proto/control_characters.h"

namespace annals::rpc {
namespace {

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

}  // namespace

absl::Status InvalidArgument(const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  std::vector<std::string> parts;
  parts.reserve(violations.size());
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
  }
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(
      violations.size() == 1 ? "invalid field " : "invalid fields ",
      absl::StrJoin(parts, "; ")));
  status.SetPayload(kBadRequestUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status WithErrorInfo(
    absl::StatusCode code, absl::string_view message, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kDomain));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  absl::Status status(code, message);
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WrongExpectedVersion(absl::string_view stream,
                                  absl::string_view expected,
                                  uint64_t current_version) {
  const std::string current = absl::StrCat(current_version);
  return WithErrorInfo(
      absl::StatusCode::kFailedPrecondition,
      absl::StrCat("stream ", stream, " is at version ", current,
                   current_version == 0 ? " (does not exist)" : "",
                   ", expected ", expected),
      "WRONG_EXPECTED_VERSION",
      {{"stream", std::string(stream)},
       {"expected", std::string(expected)},
       {"current_version", current}});
}

absl::Status DuplicateEventId(absl::string_view event_id, uint64_t position,
                              absl::string_view why) {
  return WithErrorInfo(
      absl::StatusCode::kAlreadyExists,
      absl::StrCat("event id \"", event_id, "\" is already recorded at position ",
                   position, ": ", why),
      "DUPLICATE_EVENT_ID",
      {{"event_id", std::string(event_id)},
       {"position", absl::StrCat(position)}});
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kBadRequestUrl);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() ||
      !bad_request.ParseFromString(std::string(*payload))) {
    return out;
  }
  for (const auto& fv : bad_request.field_violations()) {
    out.push_back({fv.field(), fv.description()});
  }
  return out;
}

bool GetErrorInfo(const absl::Status& status, google::rpc::ErrorInfo* info) {
  auto payload = status.GetPayload(kErrorInfoUrl);
  return payload.has_value() && info->ParseFromString(std::string(*payload));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status wire;
  wire.set_code(static_cast<int>(status.code()));
  wire.set_message(std::string(status.message()));
  status.ForEachPayload(
      [&wire](absl::string_view type_url, const absl::Cord& payload) {
        auto* any = wire.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  // absl and gRPC status codes are numerically the same.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      wire.details_size() > 0 ? wire.SerializeAsString() : "");
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status wire;
  if (!status.error_details().empty() &&
      wire.ParseFromString(status.error_details())) {
    for (const auto& any : wire.details()) {
      if (absl::StartsWith(any.type_url(), kTypeUrlPrefix)) {
        out.SetPayload(any.type_url(), absl::Cord(any.value()));
      }
    }
  }
  return out;
}

std::string OneLine(const absl::Status& status) {
  // A message may echo what a request or the log held: one line, and no
  // control character reaches the terminal.
  return EscapeControlCharacters(
      absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                   status.message()),
      /*keep_newline_and_tab=*/false);
}

}  // namespace annals::rpc
