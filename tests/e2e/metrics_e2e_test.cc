// /metrics end to end: the real annalsd serves what promtool accepts and a
// real Prometheus scrapes; the endpoint keeps to the server's TLS and
// tokens.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::RunProcess;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;
const std::string kSeed = SEED_FILE;
const std::string kMakeCerts = MAKE_CERTS_PATH;
const std::string kPromtool = "/usr/bin/promtool";
const std::string kAlerts = ALERTS_PATH;
const std::string kDashboard = DASHBOARD_PATH;
const std::string kPrometheus = "/usr/bin/prometheus";

// A port nothing listens on now (bound to 0 and released).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

class MetricsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("metrics_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    for (pid_t pid : {prometheus_pid_, server_pid_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        testing::WaitExit(pid);
      }
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd with the metrics endpoint on a port of its choice.
  void StartServer(std::vector<std::string> flags = {}) {
    const std::string port_file = (dir_ / "metrics_port").string();
    flags.insert(flags.end(), {"--durability", "buffered", "--metrics-listen",
                               "127.0.0.1:0", "--metrics-port-file", port_file});
    const testing::StartedServer started =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), flags);
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    server_ = started.address;
    const std::string port = testing::ReadFileOrEmpty(port_file);
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(port),
                                 &metrics_port_))
        << port;
  }

  RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {kAnnals, "--server", server_});
    return RunProcess(args, dir_.string());
  }

  // GET /metrics over plain HTTP, with `token` when not empty.
  httplib::Result Scrape(const std::string& token = "") {
    httplib::Client client("127.0.0.1", metrics_port_);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Get("/metrics", headers);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  pid_t prometheus_pid_ = -1;
  std::string server_;
  int metrics_port_ = 0;
};

TEST_F(MetricsEndToEndTest, PromtoolAcceptsTheEndpointAndItCountsTheAppends) {
  StartServer();
  const RunResult imported = Annals({"import", kSeed});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  ASSERT_EQ(Annals({"relationship", "JPN", "PRK"}).exit_code, 0);
  httplib::Result scraped = Scrape();
  ASSERT_TRUE(scraped) << httplib::to_string(scraped.error());
  EXPECT_EQ(scraped->status, 200);
  EXPECT_THAT(scraped->get_header_value("Content-Type"),
              HasSubstr("text/plain; version=0.0.4"));
  const std::string& text = scraped->body;
  const RunResult checked = RunProcess({kPromtool, "check", "metrics"},
                                       dir_.string(), WriteFile("m.txt", text));
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;

  for (const char* line : {
           "annals_appended_events_total{stream=\"dyad\"} 89\n",
           "annals_append_requests_total{stream=\"dyad\",code=\"OK\"} 89\n",
           "annals_log_head_position 89\n",
           "annals_grpc_server_handled_total{grpc_service=\"annals.v1."
           "Relationships\",grpc_method=\"GetRelationship\",grpc_code=\"OK\"} 1\n",
           "annals_append_duration_seconds_count 89\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  for (const char* name : {
           "annals_build_info{version=", "annals_wal_sync_duration_seconds_bucket",
           "annals_commit_group_events_bucket", "annals_subscriptions_open ",
           "annals_rocksdb_live_sst_bytes{cf=\"events\"}",
           "annals_rocksdb_block_cache_hits_total ",
           "annals_data_dir_available_bytes ", "process_resident_memory_bytes ",
           "process_open_fds ", "process_start_time_seconds "}) {
    EXPECT_THAT(text, HasSubstr(name));
  }
  // A retry of the same events is counted as such, not as new events.
  ASSERT_EQ(Annals({"import", kSeed}).exit_code, 0);
  scraped = Scrape();
  ASSERT_TRUE(scraped);
  EXPECT_THAT(scraped->body,
              HasSubstr("annals_appended_events_total{stream=\"dyad\"} 89\n"));
  EXPECT_THAT(scraped->body,
              HasSubstr("annals_append_idempotent_retries_total 89\n"));
  EXPECT_EQ(Scrape()->status, 200);
  httplib::Client client("127.0.0.1", metrics_port_);
  EXPECT_EQ(client.Get("/other")->status, 404);
}

TEST_F(MetricsEndToEndTest, ARealPrometheusScrapesTheAppendCounter) {
  StartServer();
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string config = WriteFile(
      "prometheus.yml",
      absl::StrCat("global:\n  scrape_interval: 1s\n"
                   "scrape_configs:\n  - job_name: annals\n"
                   "    static_configs:\n      - targets: ['127.0.0.1:",
                   metrics_port_, "']\n"));
  const std::string listen = absl::StrCat("127.0.0.1:", port);
  prometheus_pid_ = testing::Spawn(
      {kPrometheus, "--config.file=" + config,
       "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
       "--web.listen-address=" + listen},
      "", (dir_ / "prometheus.out").string(),
      (dir_ / "prometheus.log").string());
  ASSERT_GT(prometheus_pid_, 0);
  ASSERT_EQ(Annals({"import", kSeed}).exit_code, 0);

  httplib::Client api("127.0.0.1", port);
  std::string last;
  const bool seen = testing::Eventually([&] {
    httplib::Result result = api.Get(
        "/api/v1/query?query=sum(annals_appended_events_total)");
    if (!result || result->status != 200) return false;
    last = result->body;
    return absl::StrContains(last, "\"89\"");
  }, std::chrono::seconds(60));
  EXPECT_TRUE(seen) << last << testing::ReadFileOrEmpty(
                                   (dir_ / "prometheus.log").string());
}

// Every "expr" under `value`, recursively.
void CollectExprs(const google::protobuf::Value& value,
                  std::vector<std::string>* out) {
  if (value.has_struct_value()) {
    for (const auto& [key, field] : value.struct_value().fields()) {
      if (key == "expr" && field.has_string_value()) {
        out->push_back(field.string_value());
      } else {
        CollectExprs(field, out);
      }
    }
  } else if (value.has_list_value()) {
    for (const auto& item : value.list_value().values()) CollectExprs(item, out);
  }
}

// The metric names an expression reads (histogram series by family name).
std::set<std::string> MetricsIn(const std::string& expr) {
  static const std::regex kName("\\b(annals|process)_[a-z_]+");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kName);
       it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix) && !absl::EndsWith(name, "_total")) {
        name.resize(name.size() - std::string(suffix).size());
      }
    }
    names.insert(name);
  }
  return names;
}

TEST_F(MetricsEndToEndTest, TheDashboardAndAlertsReadOnlyServedMetrics) {
  const RunResult rules =
      RunProcess({kPromtool, "check", "rules", kAlerts}, dir_.string());
  EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;

  google::protobuf::Value dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  testing::ReadFileOrEmpty(kDashboard), &dashboard)
                  .ok())
      << kDashboard << " is not JSON";
  std::vector<std::string> exprs;
  CollectExprs(dashboard, &exprs);
  ASSERT_GT(exprs.size(), 20u);
  for (absl::string_view line :
       absl::StrSplit(testing::ReadFileOrEmpty(kAlerts), '\n')) {
    exprs.emplace_back(line);  // the rules' expressions and annotations
  }

  StartServer();
  httplib::Result scraped = Scrape();
  ASSERT_TRUE(scraped);
  std::set<std::string> read;
  for (const std::string& expr : exprs) {
    for (const std::string& name : MetricsIn(expr)) {
      EXPECT_THAT(scraped->body, HasSubstr("# TYPE " + name + " "))
          << name << " in " << expr;
      read.insert(name);
    }
  }
  EXPECT_GT(read.size(), 20u);
}

TEST_F(MetricsEndToEndTest, WithTokensTheEndpointNeedsOne) {
  const RunResult made = RunProcess(
      {kAnnals, "admin", "token", "create", "prometheus", "reader"},
      dir_.string());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<std::string> lines =
      absl::StrSplit(made.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  WriteFile("tokens", lines[1] + "\n");
  StartServer({"--auth-tokens", (dir_ / "tokens").string()});
  httplib::Result anonymous = Scrape();
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Scrape("not-a-token")->status, 401);
  httplib::Result reader = Scrape(lines[0]);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->status, 200);
  EXPECT_THAT(reader->body, HasSubstr("annals_log_head_position 0\n"));
}

TEST_F(MetricsEndToEndTest, BeyondLoopbackTheEndpointNeedsTls) {
  const testing::StartedServer started = testing::StartAnnalsd(
      kAnnalsd, dir_.string(), {"--metrics-listen", "0.0.0.0:0"});
  server_pid_ = started.pid;
  EXPECT_EQ(started.exit_code, 2) << started.error;
  EXPECT_THAT(started.error, HasSubstr("--tls-cert"));
}

TEST_F(MetricsEndToEndTest, WithTlsTheEndpointSpeaksHttps) {
  const std::string certs = (dir_ / "certs").string();
  const RunResult made = RunProcess({kMakeCerts, certs}, dir_.string());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  StartServer({"--tls-cert", certs + "/server.pem", "--tls-key",
               certs + "/server.key"});
  httplib::SSLClient client("127.0.0.1", metrics_port_);
  client.set_ca_cert_path((certs + "/ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_FALSE(Scrape());  // plain HTTP is not served
}

}  // namespace
}  // namespace annals
