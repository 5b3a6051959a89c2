#include "proto/rpc_status.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/status.pb.h"
#include "proto/control_characters.h"

namespace annals::rpc {
namespace {

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

constexpr absl::string_view kEllipsis = "…";

// `text` when it has at most `max` bytes; else its first bytes, cut on a
// UTF-8 character boundary, and "…", `max` bytes at most in all. Bounding
// again changes nothing.
std::string Bounded(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t cut = max - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat(text.substr(0, cut), kEllipsis);
}

// The first of `violations`, at most kMaxViolations and kMaxViolationBytes
// of them, their fields and descriptions bounded, and then one saying how
// many more there are (never in place of the last one alone). Bounding
// again changes nothing.
google::rpc::BadRequest BoundedBadRequest(
    const google::protobuf::RepeatedPtrField<
        google::rpc::BadRequest::FieldViolation>& violations) {
  google::rpc::BadRequest out;
  size_t bytes = 0;
  for (int i = 0; i < violations.size(); ++i) {
    std::string field = Bounded(violations[i].field(), kMaxFieldBytes);
    std::string description =
        Bounded(violations[i].description(), kMaxDescriptionBytes);
    bytes += field.size() + description.size();
    const bool last = i + 1 == violations.size();
    if (!last && (static_cast<size_t>(i) == kMaxViolations ||
                  bytes > kMaxViolationBytes)) {
      out.add_field_violations()->set_description(absl::StrCat(
          "and ", violations.size() - i, " more not listed (",
          violations.size(), " in all)"));
      break;
    }
    auto* kept = out.add_field_violations();
    kept->set_field(std::move(field));
    kept->set_description(std::move(description));
  }
  return out;
}

// A payload as it goes on the wire: BadRequest and ErrorInfo bounded
// (BoundedBadRequest; metadata values cut to kMaxFieldBytes), anything else
// as it is.
std::string BoundedPayload(absl::string_view type_url,
                           const absl::Cord& payload) {
  if (type_url == kBadRequestUrl) {
    google::rpc::BadRequest bad_request;
    if (bad_request.ParseFromString(std::string(payload))) {
      return BoundedBadRequest(bad_request.field_violations())
          .SerializeAsString();
    }
  } else if (type_url == kErrorInfoUrl) {
    google::rpc::ErrorInfo info;
    if (info.ParseFromString(std::string(payload))) {
      for (auto& [key, value] : *info.mutable_metadata()) {
        value = Bounded(value, kMaxFieldBytes);
      }
      return info.SerializeAsString();
    }
  }
  return std::string(payload);
}

}  // namespace

absl::Status InvalidArgument(const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest all;
  for (const FieldViolation& v : violations) {
    auto* fv = all.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  // The message: as many violations as fit, then how many there are.
  constexpr size_t kCountBytes = 48;  // "; and 999999 more (1000000 in all)"
  std::string message =
      violations.size() == 1 ? "invalid field " : "invalid fields ";
  size_t listed = 0;
  for (const FieldViolation& v : violations) {
    const std::string part =
        absl::StrCat(Bounded(v.field, kMaxFieldBytes), ": ",
                     Bounded(v.description, kMaxDescriptionBytes));
    if (listed > 0 &&
        message.size() + 2 + part.size() > kMaxMessageBytes - kCountBytes) {
      break;
    }
    absl::StrAppend(&message, listed > 0 ? "; " : "", part);
    ++listed;
  }
  if (listed < violations.size()) {
    absl::StrAppend(&message, "; and ", violations.size() - listed, " more (",
                    violations.size(), " in all)");
  }
  absl::Status status =
      absl::InvalidArgumentError(Bounded(message, kMaxMessageBytes));
  status.SetPayload(
      kBadRequestUrl,
      absl::Cord(BoundedBadRequest(all.field_violations()).SerializeAsString()));
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

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  *retry.mutable_retry_delay() =
      google::protobuf::util::TimeUtil::NanosecondsToDuration(
          absl::ToInt64Nanoseconds(delay));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

absl::optional<absl::Duration> RetryDelay(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoUrl);
  google::rpc::RetryInfo retry;
  if (!payload.has_value() ||
      !retry.ParseFromString(std::string(*payload))) {
    return absl::nullopt;
  }
  return absl::Nanoseconds(
      google::protobuf::util::TimeUtil::DurationToNanoseconds(
          retry.retry_delay()));
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
  const std::string message = Bounded(status.message(), kMaxMessageBytes);
  google::rpc::Status wire;
  wire.set_code(static_cast<int>(status.code()));
  wire.set_message(message);
  status.ForEachPayload(
      [&wire](absl::string_view type_url, const absl::Cord& payload) {
        auto* any = wire.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(BoundedPayload(type_url, payload));
      });
  // absl and gRPC status codes are numerically the same.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
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
