// What operators see of the real annalsd: its log, one line per event in
// text or JSON (start with the flags in effect, recovery, listening, slow
// calls, refusals, shutdown), strings escaped whatever they hold, and
// `annals info`.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kAnnals = ANNALS_PATH;

// A token and its line for --auth-tokens (annals admin token create).
constexpr char kToken[] = "annals_operations_e2e_test_token";

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// A JSON log line's members, strings as they are, the others as JSON.
std::map<std::string, std::string> Members(const std::string& line) {
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
      << line;
  std::map<std::string, std::string> members;
  for (const auto& [key, value] : parsed.fields()) {
    if (value.has_string_value()) {
      members[key] = value.string_value();
    } else {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(value, &json);
      members[key] = json;
    }
  }
  return members;
}

class OperationsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat(
               "operations_e2e_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd with `flags` (and a data directory inside the test's
  // unless they name one); whether it started.
  bool Start(std::vector<std::string> flags) {
    const testing::StartedServer server =
        testing::StartAnnalsd(kAnnalsd, dir_.string(), flags);
    pid_ = server.pid;
    address_ = server.address;
    EXPECT_EQ(server.error, "");
    return server.error.empty();
  }

  // SIGTERM, then waits; its exit code.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const int code = testing::WaitExit(pid_);
    pid_ = -1;
    return code;
  }

  std::string Log() const {
    return testing::ReadFileOrEmpty((dir_ / "annalsd.log").string());
  }

  testing::RunResult Annals(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kAnnals, "--server", address_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, dir_.string());
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string address_;
};

TEST_F(OperationsE2eTest, JsonLinesFromStartToStopWithFlagsSlowCallsAndInfo) {
  const std::string tokens = (dir_ / "tokens").string();
  {
    const testing::RunResult created = testing::RunProcess(
        {kAnnals, "admin", "token", "create", "ops", "reader"}, dir_.string());
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const std::vector<std::string> lines = Lines(created.out);
    ASSERT_EQ(lines.size(), 2u);
    std::ofstream(dir_ / "token") << lines[0] << "\n";
    std::ofstream(tokens) << lines[1] << "\n";
  }
  ASSERT_TRUE(Start({"--log-format", "json", "--slow-request-ms", "0",
                     "--durability", "buffered", "--auth-tokens", tokens}));
  const std::string token_file = (dir_ / "token").string();
  const testing::RunResult info = Annals({"--token-file", token_file, "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, StartsWith("annalsd " ANNALS_VERSION " (commit "));
  EXPECT_THAT(info.out, HasSubstr("\nhead         position 0\n"));
  EXPECT_THAT(info.out, HasSubstr("\ndurability   buffered\n"));
  EXPECT_THAT(info.out, HasSubstr("\nwritable     yes\n"));
  const testing::RunResult json =
      Annals({"--token-file", token_file, "--json", "info"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto answered = Members(json.out);
  EXPECT_EQ(answered.at("version"), ANNALS_VERSION);
  EXPECT_EQ(answered.at("durability"), "DURABILITY_BUFFERED");
  EXPECT_THAT(answered.at("projectionVersion"), StartsWith("relationships/"));
  EXPECT_EQ(Annals({"info"}).exit_code, 1) << "any role, but authenticated";
  const pid_t pid = pid_;
  EXPECT_EQ(Stop(), 0);

  std::vector<std::map<std::string, std::string>> events;
  for (const std::string& line : Lines(Log())) {
    events.push_back(Members(line));
    EXPECT_THAT(events.back()["time"],
                MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                             "[0-9]{2}\\.[0-9]{3}Z"));
    EXPECT_THAT(events.back()["level"], MatchesRegex("INFO|WARN|ERROR"));
  }
  ASSERT_GE(events.size(), 5u) << Log();
  std::vector<std::string> names;
  for (const auto& event : events) names.push_back(event.at("event"));
  EXPECT_EQ(names.front(), "start");
  EXPECT_EQ(names[1], "recovered");
  EXPECT_EQ(names[2], "listening");
  EXPECT_EQ(names[names.size() - 2], "shutdown");
  EXPECT_EQ(names.back(), "stopped");

  const auto& start = events.front();
  EXPECT_EQ(start.at("version"), ANNALS_VERSION);
  EXPECT_FALSE(start.at("commit").empty());
  EXPECT_EQ(start.at("pid"), absl::StrCat(pid));
  EXPECT_EQ(start.at("listen"), "127.0.0.1:0");
  EXPECT_EQ(start.at("data_dir"), (dir_ / "data").string());
  EXPECT_EQ(start.at("log_format"), "json");
  EXPECT_EQ(start.at("slow_request_ms"), "0");
  EXPECT_EQ(start.at("durability"), "buffered");
  EXPECT_EQ(start.at("auth_tokens"), tokens);
  EXPECT_EQ(start.at("port_file"), (dir_ / "port").string());
  EXPECT_EQ(start.count("max_append_events"), 0u) << "defaults are left out";
  EXPECT_THAT(Log(),
              Not(HasSubstr(Lines(testing::ReadFileOrEmpty(token_file))[0])))
      << "never a token";

  EXPECT_EQ(events[1].at("head"), "0");
  EXPECT_EQ(events[1].at("projections"), "kept");
  EXPECT_EQ(events[2].at("authentication"), "on");
  EXPECT_EQ(events[2].at("tls"), "off");

  std::vector<std::map<std::string, std::string>> slow;
  for (const auto& event : events) {
    if (event.at("event") == "slow_request") slow.push_back(event);
  }
  ASSERT_EQ(slow.size(), 3u) << Log();
  EXPECT_EQ(slow[0].at("method"), "/annals.v1.ServerInfo/GetServerInfo");
  EXPECT_EQ(slow[0].at("principal"), "token:ops");
  EXPECT_EQ(slow[0].at("status"), "OK");
  EXPECT_EQ(slow[0].at("level"), "WARN");
  EXPECT_THAT(slow[0].at("duration_ms"), MatchesRegex("[0-9.e-]+"));
  EXPECT_EQ(slow[2].at("principal"), "unauthenticated@ipv4:127.0.0.1");
  EXPECT_EQ(slow[2].at("status"), "UNAUTHENTICATED");

  EXPECT_EQ(events[names.size() - 2].at("reason"), "SIGTERM");
  EXPECT_EQ(events[names.size() - 2].at("grace_ms"), "10000");
  EXPECT_THAT(events.back().at("drain_ms"), MatchesRegex("[0-9.e-]+"));
}

TEST_F(OperationsE2eTest, TextLinesQuoteWhatNeedsItAndJsonEscapesIt) {
  // A data directory whose name holds a space, quotes, a newline and
  // characters beyond ASCII.
  const std::string data = (dir_ / "da ta \"q\"\n日本").string();
  ASSERT_TRUE(Start({"--data-dir", data}));
  EXPECT_EQ(Stop(), 0);
  const std::vector<std::string> text = Lines(Log());
  ASSERT_GE(text.size(), 3u) << Log();
  EXPECT_THAT(text[0],
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z "
                           "INFO event=start version=[^ ]+ commit=[^ ]+ "
                           "pid=[0-9]+ listen=127.0.0.1:0 .*"));
  EXPECT_THAT(text[0], HasSubstr(" data_dir=\"" + dir_.string() +
                                 "/da ta \\\"q\\\"\\n日本\" "));
  EXPECT_THAT(text[1], ContainsRegex(" INFO event=recovered head=0 "));

  std::filesystem::remove(dir_ / "annalsd.log");
  ASSERT_TRUE(Start({"--data-dir", data, "--log-format", "json"}));
  EXPECT_EQ(Stop(), 0);
  const std::vector<std::string> json = Lines(Log());
  ASSERT_GE(json.size(), 3u) << Log();
  EXPECT_EQ(Members(json[0]).at("data_dir"), data);
  for (const std::string& line : json) {
    EXPECT_THAT(line, StartsWith("{\"time\":\"")) << line;
  }
}

TEST_F(OperationsE2eTest, RefusalsAreLoggedEventsWithExitStatusTwo) {
  const testing::RunResult refused =
      testing::RunProcess({kAnnalsd, "--data-dir", (dir_ / "data").string(),
                           "--durability", "fast"},
                          dir_.string());
  EXPECT_EQ(refused.exit_code, 2);
  const std::vector<std::string> lines = Lines(refused.err);
  ASSERT_EQ(lines.size(), 2u) << refused.err;
  EXPECT_THAT(lines[0], HasSubstr(" INFO event=start "));
  EXPECT_THAT(lines[0], HasSubstr(" durability=fast"));
  EXPECT_THAT(lines[1],
              HasSubstr(" ERROR event=refused error=\"--durability must be "
                        "'sync' or 'buffered', got 'fast'\""));

  const testing::RunResult bad_format = testing::RunProcess(
      {kAnnalsd, "--data-dir", (dir_ / "data").string(), "--log-format", "xml"},
      dir_.string());
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_THAT(bad_format.err, HasSubstr("'text' or 'json', not 'xml'"));

  const testing::RunResult no_wait = testing::RunProcess(
      {kAnnalsd, "--data-dir", (dir_ / "data").string(), "--nats",
       "nats://127.0.0.1:1", "--nats-start-timeout", "0s"},
      dir_.string());
  EXPECT_EQ(no_wait.exit_code, 2);
  EXPECT_THAT(no_wait.err,
              HasSubstr("--nats-start-timeout must be longer than 0"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data"));
}

}  // namespace
}  // namespace annals
