#include "services/http/route_table.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"

namespace annals::http {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

absl::Status Unservable(const MethodDescriptor& method,
                        absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "the google.api.http option of ", method.full_name(), " ", why));
}

// The HTTP method and template of `rule`; false for a custom or empty one.
bool Pattern(const google::api::HttpRule& rule, std::string* http_method,
             std::string* pattern) {
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      *http_method = "GET";
      *pattern = rule.get();
      return true;
    case google::api::HttpRule::kPost:
      *http_method = "POST";
      *pattern = rule.post();
      return true;
    case google::api::HttpRule::kPut:
      *http_method = "PUT";
      *pattern = rule.put();
      return true;
    case google::api::HttpRule::kDelete:
      *http_method = "DELETE";
      *pattern = rule.delete_();
      return true;
    case google::api::HttpRule::kPatch:
      *http_method = "PATCH";
      *pattern = rule.patch();
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Route> Parse(const MethodDescriptor& method,
                            const google::api::HttpRule& rule) {
  Route route;
  route.method = &method;
  if (!Pattern(rule, &route.http_method, &route.pattern) ||
      !absl::StartsWith(route.pattern, "/")) {
    return Unservable(method, "has no GET, POST, PUT, DELETE or PATCH path");
  }
  if (method.client_streaming()) {
    return Unservable(method, "is on a client-streaming method");
  }
  route.streaming = method.server_streaming();
  if (!rule.body().empty() && rule.body() != "*") {
    return Unservable(method, "has a body other than \"*\"");
  }
  route.body = rule.body();
  absl::string_view path = absl::string_view(route.pattern).substr(1);
  if (const size_t colon = path.rfind(':');
      colon != absl::string_view::npos && path.find('/', colon) ==
                                              absl::string_view::npos &&
      path.find('}', colon) == absl::string_view::npos) {
    route.verb = std::string(path.substr(colon + 1));
    path = path.substr(0, colon);
  }
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    Route::Segment parsed;
    if (absl::StartsWith(segment, "{") && absl::EndsWith(segment, "}")) {
      const std::string name(segment.substr(1, segment.size() - 2));
      parsed.field = method.input_type()->FindFieldByName(name);
      if (parsed.field == nullptr || parsed.field->is_repeated() ||
          parsed.field->type() == FieldDescriptor::TYPE_MESSAGE) {
        return Unservable(method, absl::StrCat("binds {", name,
                                               "}, not a singular scalar "
                                               "field of the request"));
      }
    } else if (segment.empty() || absl::StrContains(segment, "{")) {
      return Unservable(method, absl::StrCat("has a segment \"", segment,
                                             "\" this gateway cannot match"));
    } else {
      parsed.literal = std::string(segment);
    }
    route.segments.push_back(std::move(parsed));
  }
  return route;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Written here because no Debian package of the stack decodes URLs:
// Boost.URL came with Boost 1.81 (Debian 12 has 1.74), and abseil has no
// URL decoder.
absl::StatusOr<std::string> PercentDecode(absl::string_view text,
                                          bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      decoded.push_back(' ');
    } else if (c != '%') {
      decoded.push_back(c);
    } else if (i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      decoded.push_back(
          static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\" has a '%' not followed by two hex digits"));
    }
  }
  return decoded;
}

absl::StatusOr<RouteTable> RouteTable::Build(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor& method = *service->method(i);
      if (!method.options().HasExtension(google::api::http)) continue;
      const google::api::HttpRule& rule =
          method.options().GetExtension(google::api::http);
      std::vector<const google::api::HttpRule*> rules = {&rule};
      for (const google::api::HttpRule& more : rule.additional_bindings()) {
        rules.push_back(&more);
      }
      for (const google::api::HttpRule* each : rules) {
        absl::StatusOr<Route> route = Parse(method, *each);
        if (!route.ok()) return route.status();
        table.routes_.push_back(*std::move(route));
      }
    }
  }
  std::stable_sort(table.routes_.begin(), table.routes_.end(),
                   [](const Route& a, const Route& b) {
                     return !a.verb.empty() && b.verb.empty();
                   });
  return table;
}

RouteMatch RouteTable::Find(absl::string_view http_method,
                            absl::string_view path) const {
  RouteMatch found;
  if (!absl::StartsWith(path, "/")) return found;
  path.remove_prefix(1);
  for (const Route& route : routes_) {
    absl::string_view rest = path;
    if (!route.verb.empty()) {
      if (!absl::EndsWith(rest, absl::StrCat(":", route.verb))) continue;
      rest.remove_suffix(route.verb.size() + 1);
    }
    std::vector<absl::string_view> segments = absl::StrSplit(rest, '/');
    if (segments.size() != route.segments.size()) continue;
    RouteMatch match;
    bool matched = true;
    for (size_t i = 0; i < segments.size() && matched; ++i) {
      const Route::Segment& want = route.segments[i];
      if (want.field == nullptr) {
        matched = segments[i] == want.literal;
        continue;
      }
      absl::StatusOr<std::string> value = PercentDecode(segments[i], false);
      matched = value.ok() && !value->empty();
      if (matched) match.bindings.emplace_back(want.field, *std::move(value));
    }
    if (!matched) continue;
    if (route.http_method != http_method) {
      found.allowed.push_back(route.http_method);
      continue;
    }
    match.route = &route;
    return match;
  }
  std::sort(found.allowed.begin(), found.allowed.end());
  found.allowed.erase(std::unique(found.allowed.begin(), found.allowed.end()),
                      found.allowed.end());
  return found;
}

}  // namespace annals::http
