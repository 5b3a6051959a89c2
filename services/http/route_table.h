// The HTTP routes of the annals services, read from the google.api.http
// annotations of their methods (proto/annals/v1/*.proto): which method an
// HTTP request calls and which request fields its path binds.
//
// A path template is "/" followed by segments: literals and "{field}" (one
// segment bound to a top-level request field), with an optional ":verb"
// after the last one ("/v1/streams/{stream}:append"). Templates with a
// verb are tried before those without, so "/v1/relationships/JPN-PRK:watch"
// is WatchRelationship, not GetRelationship of "JPN-PRK:watch".
#ifndef ANNALS_SERVICES_HTTP_ROUTE_TABLE_H_
#define ANNALS_SERVICES_HTTP_ROUTE_TABLE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace annals::http {

struct Route {
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string http_method;  // "GET", "POST", ...
  std::string pattern;      // as annotated: "/v1/relationships/{dyad}"
  // "*": the body is the whole request; empty: no body (the query string
  // sets the fields the path does not).
  std::string body;
  // A server-streaming method: served as server-sent events.
  bool streaming = false;

  // The parsed template: each segment a literal, or a field it binds.
  struct Segment {
    std::string literal;
    const google::protobuf::FieldDescriptor* field = nullptr;
  };
  std::vector<Segment> segments;
  std::string verb;  // after the last segment's ':'; empty when none
};

// What an HTTP request's method and path found.
struct RouteMatch {
  // The route; null when none matched.
  const Route* route = nullptr;
  // The path's values of the fields the template binds, percent-decoded.
  std::vector<std::pair<const google::protobuf::FieldDescriptor*, std::string>>
      bindings;
  // When no route matched but the path has routes of other HTTP methods:
  // those methods (for 405 and its Allow header).
  std::vector<std::string> allowed;
};

class RouteTable {
 public:
  // The routes of every method of `services` that has a google.api.http
  // option. INVALID_ARGUMENT naming the method for a template this table
  // cannot serve (a field it binds that is not a top-level singular
  // scalar of the request, a body other than "*" or none, a client-
  // streaming method).
  static absl::StatusOr<RouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The route of `http_method` and `path` (without the query string,
  // still percent-encoded).
  RouteMatch Find(absl::string_view http_method, absl::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // with a verb first
};

// `text` with its %XX escapes decoded (and '+' as a space when
// `plus_is_space`, as in a query string). INVALID_ARGUMENT for a '%' not
// followed by two hex digits.
absl::StatusOr<std::string> PercentDecode(absl::string_view text,
                                          bool plus_is_space);

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_ROUTE_TABLE_H_
