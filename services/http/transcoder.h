// The JSON side of the HTTP gateway: an HTTP request's path bindings,
// query string and body into the request message of its route, messages
// into protobuf's canonical JSON, and errors into google.rpc.Status JSON
// with the HTTP status grpc-gateway gives their code.
//
// The query string sets fields the path does not bind, by their JSON name
// or their proto name ("asOfDate" or "as_of_date"), nested ones by a
// dotted path ("filter.dyad"); a repeated field takes the parameter once
// per value ("kinds=meeting&kinds=resolution"). Values are the fields'
// text: numbers, true/false, enum names or numbers, base64 for bytes; an
// annals.v1.Date also as "2019", "2019-03" or "2019-03-12"; a
// google.protobuf.Empty (a oneof's choice such as `fromStart`) as an empty
// value. Every mistake is INVALID_ARGUMENT with a field violation naming
// the parameter.
#ifndef ANNALS_SERVICES_HTTP_TRANSCODER_H_
#define ANNALS_SERVICES_HTTP_TRANSCODER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "services/http/route_table.h"

namespace annals::http {

// A query string's parameters, in order, percent-decoded.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The parameters of `query` (what follows '?'). INVALID_ARGUMENT for a
// malformed escape.
absl::StatusOr<QueryParams> ParseQuery(absl::string_view query);

// The request message of `match.route`: its JSON `body` when the route
// takes one, then the path's bindings, then `query` (only for a route
// without a body). INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(
    const RouteMatch& match, const QueryParams& query, absl::string_view body);

// `message` in protobuf's canonical JSON (lowerCamelCase names, 64-bit
// integers as strings, defaults left out).
std::string ToJson(const google::protobuf::Message& message);

// The HTTP status of a gRPC code, as grpc-gateway maps them (NOT_FOUND 404,
// INVALID_ARGUMENT 400, UNAUTHENTICATED 401, ...).
int HttpStatusOf(grpc::StatusCode code);

// A request field path as the server's violations write it, with proto
// names ("events[0].cameo_code"), in JSON names ("events[0].cameoCode"),
// read against `type`, the request message. Segments it cannot find stay
// as they are.
std::string JsonFieldPath(const google::protobuf::Descriptor& type,
                          absl::string_view path);

// `status` with the field paths of its BadRequest violations in JSON
// names (JsonFieldPath against `request`): an HTTP client sent the JSON
// names and reads them back. Everything else is kept.
grpc::Status WithJsonFieldNames(const grpc::Status& status,
                                const google::protobuf::Descriptor& request);

// `status` as the JSON of a google.rpc.Status: code, message, and its
// details (BadRequest, ErrorInfo, RetryInfo) as typed JSON objects.
std::string StatusJson(const grpc::Status& status);

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_TRANSCODER_H_
