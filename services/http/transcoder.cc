#include "services/http/transcoder.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "annals/v1/event.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "proto/date_text.h"
#include "proto/rpc_status.h"

namespace annals::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Violation(absl::string_view field, absl::string_view why) {
  return rpc::InvalidArgument({{std::string(field), std::string(why)}});
}

const FieldDescriptor* FindField(const Descriptor& type,
                                 absl::string_view name) {
  const std::string key(name);
  if (const FieldDescriptor* field = type.FindFieldByName(key)) return field;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->json_name() == key) return type.field(i);
  }
  return nullptr;
}

// Sets the scalar `field` of `message` (adds to it when repeated) from
// `text`.
absl::Status SetScalar(Message* message, const FieldDescriptor& field,
                       absl::string_view name, absl::string_view text) {
  const Reflection& reflection = *message->GetReflection();
  const bool repeated = field.is_repeated();
  const auto bad = [&](absl::string_view what) {
    return Violation(name, absl::StrCat("must be ", what, ", got '", text, "'"));
  };
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value(text);
      if (field.type() == FieldDescriptor::TYPE_BYTES &&
          !absl::Base64Unescape(text, &value) &&
          !absl::WebSafeBase64Unescape(text, &value)) {
        return bad("base64");
      }
      repeated ? reflection.AddString(message, &field, std::move(value))
               : reflection.SetString(message, &field, std::move(value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t value;
      if (!absl::SimpleAtoi(text, &value)) return bad("a 32-bit integer");
      repeated ? reflection.AddInt32(message, &field, value)
               : reflection.SetInt32(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t value;
      if (!absl::SimpleAtoi(text, &value)) return bad("a 64-bit integer");
      repeated ? reflection.AddInt64(message, &field, value)
               : reflection.SetInt64(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t value;
      if (!absl::SimpleAtoi(text, &value)) {
        return bad("an unsigned 32-bit integer");
      }
      repeated ? reflection.AddUInt32(message, &field, value)
               : reflection.SetUInt32(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t value;
      if (!absl::SimpleAtoi(text, &value)) {
        return bad("an unsigned 64-bit integer");
      }
      repeated ? reflection.AddUInt64(message, &field, value)
               : reflection.SetUInt64(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double value;
      if (!absl::SimpleAtod(text, &value)) return bad("a number");
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        repeated ? reflection.AddFloat(message, &field, static_cast<float>(value))
                 : reflection.SetFloat(message, &field, static_cast<float>(value));
      } else {
        repeated ? reflection.AddDouble(message, &field, value)
                 : reflection.SetDouble(message, &field, value);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool value;
      if (text == "true" || text == "1" || text.empty()) {
        value = true;
      } else if (text == "false" || text == "0") {
        value = false;
      } else {
        return bad("true or false");
      }
      repeated ? reflection.AddBool(message, &field, value)
               : reflection.SetBool(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumDescriptor& type = *field.enum_type();
      const google::protobuf::EnumValueDescriptor* value =
          type.FindValueByName(std::string(text));
      int number;
      if (value == nullptr && absl::SimpleAtoi(text, &number)) {
        value = type.FindValueByNumber(number);
      }
      if (value == nullptr) {
        return bad(absl::StrCat("a value of ", type.full_name()));
      }
      repeated ? reflection.AddEnum(message, &field, value)
               : reflection.SetEnum(message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return Violation(name, "cannot be given as text");
}

// Sets the field at `name` (a dotted path) of `request` from `text`.
// `seen` holds the singular fields set so far.
absl::Status SetParameter(Message* request, absl::string_view name,
                          absl::string_view text,
                          absl::flat_hash_set<const FieldDescriptor*>* seen) {
  Message* message = request;
  const std::vector<absl::string_view> path = absl::StrSplit(name, '.');
  for (size_t i = 0; i < path.size(); ++i) {
    const Descriptor& type = *message->GetDescriptor();
    const FieldDescriptor* field = FindField(type, path[i]);
    if (field == nullptr) {
      return Violation(name, absl::StrCat("is not a field of ",
                                          type.full_name()));
    }
    const Reflection& reflection = *message->GetReflection();
    if (const google::protobuf::OneofDescriptor* oneof =
            field->containing_oneof();
        oneof != nullptr && reflection.HasOneof(*message, oneof) &&
        reflection.GetOneofFieldDescriptor(*message, oneof) != field) {
      return Violation(
          name, absl::StrCat("cannot be given with ",
                             reflection.GetOneofFieldDescriptor(*message, oneof)
                                 ->json_name(),
                             ": they are alternatives (oneof ",
                             oneof->name(), ")"));
    }
    const bool last = i + 1 == path.size();
    if (!field->is_repeated() && last && !seen->insert(field).second) {
      return Violation(name, "is given more than once");
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!last) {
        return Violation(name, absl::StrCat(path[i], " has no fields"));
      }
      return SetScalar(message, *field, name, text);
    }
    if (field->is_repeated()) {
      return Violation(name, "is a list of messages: give it in a JSON body");
    }
    Message* inner = reflection.MutableMessage(message, field);
    if (!last) {
      message = inner;
      continue;
    }
    if (field->message_type() == v1::Date::descriptor()) {
      absl::StatusOr<v1::Date> date = ParseDateText(name, text);
      if (!date.ok()) return Violation(name, date.status().message());
      inner->CopyFrom(*date);
      return absl::OkStatus();
    }
    if (field->message_type() == google::protobuf::Empty::descriptor()) {
      if (!text.empty() && text != "true" && text != "{}") {
        return Violation(name, "takes no value");
      }
      return absl::OkStatus();
    }
    return Violation(name, absl::StrCat("is a message: give its fields as ",
                                        name, ".FIELD"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QueryParams> ParseQuery(absl::string_view query) {
  QueryParams params;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    absl::StatusOr<std::string> name =
        PercentDecode(pair.substr(0, equals), true);
    if (!name.ok()) return Violation("query", name.status().message());
    absl::StatusOr<std::string> value =
        PercentDecode(equals == absl::string_view::npos
                          ? absl::string_view()
                          : pair.substr(equals + 1),
                      true);
    if (!value.ok()) return Violation(*name, value.status().message());
    params.emplace_back(*std::move(name), *std::move(value));
  }
  return params;
}

absl::StatusOr<std::unique_ptr<Message>> BuildRequest(
    const RouteMatch& match, const QueryParams& query, absl::string_view body) {
  const Route& route = *match.route;
  std::unique_ptr<Message> request(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(route.method->input_type())
          ->New());
  if (!route.body.empty() && !body.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const google::protobuf::util::Status parsed =
        google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(body.data(), body.size()),
            request.get(), options);
    if (!parsed.ok()) {
      return Violation("body", absl::StrCat("is not a JSON ",
                                            route.method->input_type()->name(),
                                            ": ",
                                            std::string(parsed.message())));
    }
  }
  absl::flat_hash_set<const FieldDescriptor*> seen;
  for (const auto& [field, value] : match.bindings) {
    request->GetReflection()->ClearField(request.get(), field);
    if (absl::Status set =
            SetParameter(request.get(), field->name(), value, &seen);
        !set.ok()) {
      return set;
    }
  }
  if (!route.body.empty() && !query.empty()) {
    return Violation(query.front().first,
                     absl::StrCat(route.http_method, " ", route.pattern,
                                  " takes its fields in the JSON body, not "
                                  "the query string"));
  }
  for (const auto& [name, value] : query) {
    if (absl::Status set = SetParameter(request.get(), name, value, &seen);
        !set.ok()) {
      return set;
    }
  }
  return request;
}

std::string ToJson(const Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  // Cannot fail for a generated message whose Any details are of types
  // linked into the binary (the google.rpc details).
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS
      return 500;
  }
}

std::string JsonFieldPath(const Descriptor& type, absl::string_view path) {
  std::vector<std::string> segments;
  const Descriptor* current = &type;
  for (absl::string_view segment : absl::StrSplit(path, '.')) {
    const size_t bracket = segment.find('[');
    const absl::string_view name = segment.substr(0, bracket);
    const FieldDescriptor* field =
        current == nullptr ? nullptr : current->FindFieldByName(std::string(name));
    if (field == nullptr) {
      segments.emplace_back(segment);
      current = nullptr;  // the rest is not the request's
      continue;
    }
    segments.push_back(absl::StrCat(
        field->json_name(),
        bracket == absl::string_view::npos ? "" : segment.substr(bracket)));
    current = field->message_type();
  }
  return absl::StrJoin(segments, ".");
}

grpc::Status WithJsonFieldNames(const grpc::Status& status,
                                const Descriptor& request) {
  google::rpc::Status proto;
  if (status.ok() || status.error_details().empty() ||
      !proto.ParseFromString(status.error_details())) {
    return status;
  }
  bool changed = false;
  for (google::protobuf::Any& detail : *proto.mutable_details()) {
    google::rpc::BadRequest bad;
    if (!detail.UnpackTo(&bad)) continue;
    for (auto& violation : *bad.mutable_field_violations()) {
      violation.set_field(JsonFieldPath(request, violation.field()));
    }
    detail.PackFrom(bad);
    changed = true;
  }
  if (!changed) return status;
  return grpc::Status(status.error_code(), status.error_message(),
                      proto.SerializeAsString());
}

std::string StatusJson(const grpc::Status& status) {
  google::rpc::Status proto;
  if (status.error_details().empty() ||
      !proto.ParseFromString(status.error_details())) {
    proto.Clear();
    proto.set_code(status.error_code());
    proto.set_message(status.error_message());
  }
  return ToJson(proto);
}

}  // namespace annals::http
