// The HTTP/JSON gateway end to end: every annotated route of the real
// annalsd answers protobuf's JSON, errors are google.rpc.Status JSON with
// grpc-gateway's HTTP statuses, tokens, roles and TLS hold over HTTP as
// over gRPC, CORS only for the configured origins, and the dashboard is
// served with a policy that keeps every request on the server.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "annals/v1/audit.grpc.pb.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "annals/v1/query.grpc.pb.h"
#include "annals/v1/server_info.grpc.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/http_fixture.h"

namespace annals {
namespace {

using ::testing::HasSubstr;
using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;

// One event as the JSON body of an append.
std::string AppendBody(const std::string& id) {
  return absl::StrCat(
      R"({"events":[{"id":")", id,
      R"(","source":["JPN"],"target":["PRK"],"occurred":{"start":)"
      R"({"year":2019,"month":4}},"summary":"Japan restated its position.",)"
      R"("sources":[{"publisher":"Test","title":"HTTP"}],)"
      R"("statement":{"speaker":"Foreign Ministry","stance":"STANCE_NEUTRAL"}}]})");
}

google::rpc::Status ParseStatus(const std::string& body) {
  google::rpc::Status status;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(body, &status).ok())
      << body;
  return status;
}

std::vector<std::string> ViolatedFields(const google::rpc::Status& status) {
  std::vector<std::string> fields;
  for (const auto& detail : status.details()) {
    google::rpc::BadRequest bad;
    if (detail.UnpackTo(&bad)) {
      for (const auto& violation : bad.field_violations()) {
        fields.push_back(violation.field());
      }
    }
  }
  return fields;
}

class HttpGatewayTest : public testing::HttpE2eTest {};

// Every unary method with a google.api.http option, called over HTTP: 200
// and the method's response message in JSON. A method annotated later and
// missing here fails the test.
TEST_F(HttpGatewayTest, EveryRouteAnswersItsResponseInJson) {
  StartServer();
  ImportSeed();
  struct Call {
    std::string method;  // full name
    std::string verb;
    std::string path;
    std::string body;
  };
  const std::string backups = (dir_ / "backups").string();
  const std::vector<Call> calls = {
      {"annals.v1.EventLog.Append", "POST", "/v1/streams/web:append",
       AppendBody("web-1")},
      {"annals.v1.EventLog.ReadStream", "GET", "/v1/streams/JPN-PRK?limit=2",
       ""},
      {"annals.v1.EventLog.ReadAll", "GET",
       "/v1/events?fromPosition=3&limit=2", ""},
      {"annals.v1.EventLog.GetEvent", "GET",
       "/v1/events/prk-jpn-1978-chimura-abduction", ""},
      {"annals.v1.Relationships.GetRelationship", "GET",
       "/v1/relationships/PRK-JPN?asOfDate=2019-03", ""},
      {"annals.v1.Relationships.ListRelationships", "GET",
       "/v1/relationships?actor=PRK&orderBy=ORDER_BY_INDEX&pageSize=3", ""},
      {"annals.v1.Relationships.QueryTimeline", "GET",
       "/v1/timeline?dyad=JPN-PRK&from=2018&kinds=resolution&kinds=meeting",
       ""},
      {"annals.v1.Admin.RebuildProjections", "POST",
       "/v1/admin/projections:rebuild", "{}"},
      {"annals.v1.Admin.CreateBackup", "POST", "/v1/admin/backups",
       absl::StrCat(R"({"to":")", backups, R"("})")},
      {"annals.v1.Audit.GetTreeHead", "GET", "/v1/audit/tree-head", ""},
      {"annals.v1.Audit.ProveInclusion", "GET",
       "/v1/audit/inclusion?position=3&treeSize=10", ""},
      {"annals.v1.Audit.ProveConsistency", "GET",
       "/v1/audit/consistency?oldSize=5&newSize=10", ""},
      {"annals.v1.Audit.GetPublicKey", "GET", "/v1/audit/public-key", ""},
      {"annals.v1.Audit.ReadStored", "GET",
       "/v1/audit/stored?fromPosition=1&maxCount=2", ""},
      {"annals.v1.ServerInfo.GetServerInfo", "GET", "/v1/server-info", ""},
  };
  // Linked in, so that the generated pool describes every service.
  for (const auto* linked :
       {v1::AppendRequest::descriptor(), v1::GetRelationshipRequest::descriptor(),
        v1::GetTreeHeadRequest::descriptor(),
        v1::GetServerInfoRequest::descriptor()}) {
    ASSERT_NE(linked, nullptr);
  }
  std::set<std::string> called;
  httplib::Client client = Client();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const Call& call : calls) {
    SCOPED_TRACE(call.path);
    const google::protobuf::MethodDescriptor* method =
        pool->FindMethodByName(call.method);
    ASSERT_NE(method, nullptr);
    called.insert(call.method);
    httplib::Result result =
        call.verb == "GET"
            ? client.Get(call.path)
            : client.Post(call.path, call.body, "application/json");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method->output_type())
            ->New());
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(result->body, response.get())
            .ok())
        << result->body;
    EXPECT_GT(response->ByteSizeLong(), 0u) << result->body;
  }
  for (const char* service :
       {"annals.v1.EventLog", "annals.v1.Relationships", "annals.v1.Admin",
        "annals.v1.Audit", "annals.v1.ServerInfo"}) {
    const auto* descriptor = pool->FindServiceByName(service);
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const auto* method = descriptor->method(i);
      if (!method->options().HasExtension(google::api::http) ||
          method->server_streaming()) {
        continue;
      }
      EXPECT_TRUE(called.count(method->full_name()))
          << method->full_name() << " has an HTTP route this test does not call";
    }
  }
  // What was appended over HTTP is in the log, as any append.
  const RunResult got = Annals({"get", "web-1"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
}

TEST_F(HttpGatewayTest, ErrorsAreStatusJsonWithTheHttpStatusOfTheirCode) {
  StartServer();
  ImportSeed();
  httplib::Client client = Client();

  httplib::Result bad_date = client.Get("/v1/relationships/JPN-PRK?asOfDate=2019-13");
  ASSERT_TRUE(bad_date);
  EXPECT_EQ(bad_date->status, 400);
  google::rpc::Status status = ParseStatus(bad_date->body);
  EXPECT_EQ(status.code(), 3);  // INVALID_ARGUMENT
  EXPECT_THAT(ViolatedFields(status), ::testing::ElementsAre("asOfDate"));
  EXPECT_THAT(status.message(), HasSubstr("no such month"));

  httplib::Result unknown = client.Get("/v1/relationships?colour=red");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(ViolatedFields(ParseStatus(unknown->body)),
              ::testing::ElementsAre("colour"));

  httplib::Result both = client.Get(
      "/v1/relationships/JPN-PRK?asOfDate=2019&asOfPosition=3");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 400);
  EXPECT_THAT(both->body, HasSubstr("alternatives"));

  // The server's own violations name fields as the JSON does.
  httplib::Result beyond = client.Get("/v1/relationships/JPN-PRK?asOfPosition=100000");
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 400);
  EXPECT_THAT(ViolatedFields(ParseStatus(beyond->body)),
              ::testing::ElementsAre("asOfPosition"));
  httplib::Result bad_code = client.Post(
      "/v1/streams/web:append",
      R"({"events":[{"id":"x","cameoCode":"99999","source":["JPN"],"target":["PRK"]}]})",
      "application/json");
  ASSERT_TRUE(bad_code);
  EXPECT_THAT(ViolatedFields(ParseStatus(bad_code->body)),
              ::testing::Contains("events[0].cameoCode"));

  // The server's own validation, field paths and all.
  httplib::Result invalid =
      client.Post("/v1/streams/web:append", R"({"events":[{"id":"x"}]})",
                  "application/json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_THAT(ViolatedFields(ParseStatus(invalid->body)),
              ::testing::Contains("events[0].summary"));

  httplib::Result not_json =
      client.Post("/v1/streams/web:append", R"({"evnts":[]})",
                  "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_THAT(ViolatedFields(ParseStatus(not_json->body)),
              ::testing::ElementsAre("body"));

  httplib::Result missing = client.Get("/v1/events/no-such-event");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ParseStatus(missing->body).code(), 5);

  // The same id with other content: ALREADY_EXISTS is 409.
  ASSERT_EQ(client.Post("/v1/streams/web:append", AppendBody("web-2"),
                        "application/json")
                ->status,
            200);
  std::string changed = AppendBody("web-2");
  changed.replace(changed.find("restated"), 8, "repeated");
  httplib::Result duplicate =
      client.Post("/v1/streams/web:append", changed, "application/json");
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->status, 409);
  EXPECT_THAT(duplicate->body, HasSubstr("DUPLICATE_EVENT_ID"));

  httplib::Result wrong_method = client.Post("/v1/relationships", "{}", "application/json");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "GET");

  httplib::Result no_route = client.Get("/v1/nothing-here");
  ASSERT_TRUE(no_route);
  EXPECT_EQ(no_route->status, 404);
  EXPECT_THAT(no_route->body, HasSubstr("no API route GET /v1/nothing-here"));

  // A stream refused before it starts is an ordinary error, not a stream.
  httplib::Result bad_watch = client.Get("/v1/relationships/JPN-XXX:watch");
  ASSERT_TRUE(bad_watch);
  EXPECT_EQ(bad_watch->status, 400);
  EXPECT_EQ(bad_watch->get_header_value("Content-Type"), "application/json");
}

TEST_F(HttpGatewayTest, TokensAndRolesHoldOverHttp) {
  const std::string writer = NewToken("ingest", "writer");
  const std::string reader = NewToken("dashboard", "reader");
  StartServer({"--auth-tokens", (dir_ / "tokens").string()});
  httplib::Client client = Client();

  httplib::Result anonymous = client.Get("/v1/relationships");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");

  httplib::Headers as_reader = {{"Authorization", "Bearer " + reader}};
  httplib::Headers as_writer = {{"Authorization", "Bearer " + writer}};
  EXPECT_EQ(client.Get("/v1/relationships", as_reader)->status, 200);
  httplib::Result denied = client.Post("/v1/streams/web:append", as_reader,
                                       AppendBody("web-3"), "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_THAT(denied->body, HasSubstr("needs the role writer"));
  EXPECT_THAT(denied->body, HasSubstr("token:dashboard"));

  httplib::Result appended = client.Post("/v1/streams/web:append", as_writer,
                                         AppendBody("web-3"), "application/json");
  ASSERT_TRUE(appended);
  EXPECT_EQ(appended->status, 200) << appended->body;
  httplib::Result event = client.Get("/v1/events/web-3", as_reader);
  ASSERT_TRUE(event);
  EXPECT_THAT(event->body, HasSubstr(R"("principal":"token:ingest")"));

  // The dashboard's files need no token; the data does.
  EXPECT_EQ(client.Get("/")->status, 200);
}

// A gRPC client cannot pass itself off as someone else by sending the
// metadata the gateway uses for its clients: without the gateway's key it
// is ignored.
TEST_F(HttpGatewayTest, GatewayMetadataFromOtherCallersIsIgnored) {
  StartServer();
  auto stub = v1::EventLog::NewStub(
      grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials()));
  v1::AppendRequest request;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(AppendBody("forged"),
                                                          &request)
                  .ok());
  request.set_stream("web");
  grpc::ClientContext context;
  context.AddMetadata("annals-gateway-key", std::string(64, '0'));
  context.AddMetadata("annals-gateway-peer", "ipv4:203.0.113.9:1");
  context.AddMetadata("annals-gateway-subject", "root");
  v1::AppendResponse response;
  ASSERT_TRUE(stub->Append(&context, request, &response).ok());
  httplib::Result event = Client().Get("/v1/events/forged");
  ASSERT_TRUE(event);
  EXPECT_THAT(event->body, HasSubstr(R"("principal":"anonymous@ipv4:127.0.0.1")"));
}

TEST_F(HttpGatewayTest, HttpsWithTheServersCertificateAndClientCertificates) {
  const std::string certs = (dir_ / "certs").string();
  ASSERT_EQ(RunProcess({MAKE_CERTS_PATH, certs}, dir_.string()).exit_code, 0);
  ASSERT_EQ(RunProcess({MAKE_CERTS_PATH, certs, "client", "ingest-bot"},
                       dir_.string())
                .exit_code,
            0);
  std::ofstream(dir_ / "certs.roles") << "ingest-bot writer\n";
  StartServer({"--tls-cert", certs + "/server.pem", "--tls-key",
               certs + "/server.key", "--tls-client-ca", certs + "/ca.pem",
               "--auth-certs", (dir_ / "certs.roles").string()});
  httplib::SSLClient client("127.0.0.1", http_port_,
                            certs + "/ingest-bot.pem", certs + "/ingest-bot.key");
  client.set_ca_cert_path((certs + "/ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result appended =
      client.Post("/v1/streams/web:append", AppendBody("tls-1"), "application/json");
  ASSERT_TRUE(appended) << httplib::to_string(appended.error());
  EXPECT_EQ(appended->status, 200) << appended->body;
  httplib::Result event = client.Get("/v1/events/tls-1");
  ASSERT_TRUE(event);
  EXPECT_THAT(event->body, HasSubstr(R"("principal":"cert:ingest-bot")"));
  // Plain HTTP is not served on an HTTPS port.
  EXPECT_FALSE(Client().Get("/v1/server-info"));
}

// curl sends "Expect: 100-continue" with bodies over 1 KiB and waits a
// second for "100 Continue" before it sends the body.
TEST_F(HttpGatewayTest, ABodyThatWaitsForContinueIsAskedFor) {
  StartServer();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(http_port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string body = AppendBody("continued");
  const std::string head = absl::StrCat(
      "POST /v1/streams/web:append HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/json\r\nContent-Length: ",
      body.size(), "\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  timeval wait{0, 500000};  // well under curl's one second
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  char answer[256];
  const ssize_t read_bytes = read(fd, answer, sizeof(answer));
  ASSERT_GT(read_bytes, 0) << "no 100 Continue within 0.5 s";
  EXPECT_THAT(std::string(answer, read_bytes), HasSubstr("100 Continue"));
  ASSERT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  std::string rest;
  wait = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  while (!absl::StrContains(rest, "positions")) {
    const ssize_t n = read(fd, answer, sizeof(answer));
    if (n <= 0) break;
    rest.append(answer, n);
  }
  close(fd);
  EXPECT_THAT(rest, HasSubstr("HTTP/1.1 200 OK"));
}

TEST_F(HttpGatewayTest, CorsOnlyForTheConfiguredOrigins) {
  StartServer({"--http-cors-origin", "https://dash.example.org"});
  httplib::Client client = Client();
  httplib::Result preflight = client.Options(
      "/v1/relationships", {{"Origin", "https://dash.example.org"},
                            {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"),
            "https://dash.example.org");
  EXPECT_THAT(preflight->get_header_value("Access-Control-Allow-Headers"),
              HasSubstr("authorization"));
  httplib::Result allowed =
      client.Get("/v1/relationships", {{"Origin", "https://dash.example.org"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->get_header_value("Access-Control-Allow-Origin"),
            "https://dash.example.org");
  httplib::Result other =
      client.Get("/v1/relationships", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
}

TEST_F(HttpGatewayTest, TheDashboardIsServedAndKeepsToItsServer) {
  StartServer();
  httplib::Client client = Client();
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'self'"));
  EXPECT_THAT(page->body, HasSubstr("<html"));
  EXPECT_EQ(client.Get("/no-such-file.js")->status, 404);
  EXPECT_EQ(client.Get("/../CMakeLists.txt")->status, 404);
}

}  // namespace
}  // namespace annals
