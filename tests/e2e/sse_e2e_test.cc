// Server-sent events end to end with the real annalsd: a subscription
// catches up, says so, then goes live; Last-Event-ID resumes without a gap
// or a duplicate; a quiet stream gets heartbeats; a watch streams states.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/http_fixture.h"

namespace annals {
namespace {

using ::annals::testing::Eventually;
using ::testing::HasSubstr;

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

// An event stream read on a thread of its own until Stop.
class SseReader {
 public:
  SseReader(int port, std::string path, httplib::Headers headers = {})
      : client_("127.0.0.1", port) {
    client_.set_read_timeout(30, 0);
    thread_ = std::thread([this, path = std::move(path), headers] {
      httplib::Result result = client_.Get(
          path, headers,
          [this](const httplib::Response& response) {
            std::lock_guard<std::mutex> lock(mu_);
            content_type_ = response.get_header_value("Content-Type");
            status_ = response.status;
            return true;
          },
          [this](const char* data, size_t size) {
            std::lock_guard<std::mutex> lock(mu_);
            raw_.append(data, size);
            return !stop_;
          });
    });
  }
  ~SseReader() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // The complete events read so far (comments left out).
  std::vector<SseEvent> Events() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SseEvent> events;
    for (absl::string_view block : absl::StrSplit(raw_, "\n\n")) {
      SseEvent event;
      for (absl::string_view line : absl::StrSplit(block, '\n')) {
        if (absl::ConsumePrefix(&line, "id: ")) event.id = std::string(line);
        if (absl::ConsumePrefix(&line, "event: ")) event.event = std::string(line);
        if (absl::ConsumePrefix(&line, "data: ")) event.data = std::string(line);
      }
      if (!event.event.empty()) events.push_back(event);
    }
    // The last block may be incomplete.
    if (!events.empty() && !absl::EndsWith(raw_, "\n\n")) events.pop_back();
    return events;
  }

  std::string raw() {
    std::lock_guard<std::mutex> lock(mu_);
    return raw_;
  }
  std::string content_type() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_type_;
  }

 private:
  httplib::Client client_;
  std::mutex mu_;
  std::string raw_;
  std::string content_type_;
  int status_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

std::vector<uint64_t> EventIds(const std::vector<SseEvent>& events) {
  std::vector<uint64_t> ids;
  for (const SseEvent& event : events) {
    uint64_t id = 0;
    if (event.event == "event" && absl::SimpleAtoi(event.id, &id)) {
      ids.push_back(id);
    }
  }
  return ids;
}

bool Has(const std::vector<SseEvent>& events, const std::string& kind) {
  for (const SseEvent& event : events) {
    if (event.event == kind) return true;
  }
  return false;
}

class SseTest : public testing::HttpE2eTest {};

TEST_F(SseTest, ASubscriptionCatchesUpThenGoesLive) {
  StartServer();
  ImportSeed();  // 89 events
  SseReader reader(http_port_, "/v1/subscribe?fromStart");
  ASSERT_TRUE(Eventually([&] { return Has(reader.Events(), "caughtUp"); }))
      << reader.raw().substr(0, 500);
  EXPECT_EQ(reader.content_type(), "text/event-stream");
  std::vector<SseEvent> events = reader.Events();
  std::vector<uint64_t> ids = EventIds(events);
  ASSERT_EQ(ids.size(), 89u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);
  EXPECT_THAT(events.front().data, HasSubstr(R"("position":"1")"));

  const testing::RunResult appended = Annals(
      {"append", "--stream", "examples",
       absl::StrCat(EXAMPLES_DIR, "/secret_talks_2001_2002.json")});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  ASSERT_TRUE(Eventually([&] { return EventIds(reader.Events()).size() == 90; }));
  EXPECT_EQ(EventIds(reader.Events()).back(), 90u);
  EXPECT_THAT(reader.Events().back().data,
              HasSubstr("jpn-prk-2001-2002-secret-talks"));
}

TEST_F(SseTest, LastEventIdResumesWithoutAGapOrADuplicate) {
  StartServer();
  ImportSeed();
  std::vector<uint64_t> first;
  {
    SseReader reader(http_port_, "/v1/subscribe?fromStart&filter.dyad=JPN-PRK");
    ASSERT_TRUE(Eventually([&] { return Has(reader.Events(), "caughtUp"); }));
    first = EventIds(reader.Events());
  }
  ASSERT_GT(first.size(), 10u);
  // A client that saw the first ten events reconnects.
  const uint64_t last_seen = first[9];
  SseReader resumed(http_port_, "/v1/subscribe?fromStart&filter.dyad=JPN-PRK",
                    {{"Last-Event-ID", absl::StrCat(last_seen)}});
  ASSERT_TRUE(Eventually([&] { return Has(resumed.Events(), "caughtUp"); }));
  const std::vector<uint64_t> rest = EventIds(resumed.Events());
  EXPECT_EQ(std::vector<uint64_t>(first.begin() + 10, first.end()), rest);

  SseReader bad(http_port_, "/v1/subscribe", {{"Last-Event-ID", "yesterday"}});
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(bad.raw(), "}"); }));
  EXPECT_THAT(bad.raw(), HasSubstr("Last-Event-ID"));
  EXPECT_EQ(bad.content_type(), "application/json");
}

TEST_F(SseTest, AQuietStreamGetsHeartbeats) {
  StartServer({"--http-heartbeat", "200ms"});
  SseReader reader(http_port_, "/v1/subscribe?fromNow");
  ASSERT_TRUE(Eventually([&] {
    const std::string raw = reader.raw();
    size_t count = 0;
    for (size_t at = raw.find(": heartbeat\n\n"); at != std::string::npos;
         at = raw.find(": heartbeat\n\n", at + 1)) {
      ++count;
    }
    return count >= 3;
  })) << reader.raw();
  EXPECT_TRUE(Has(reader.Events(), "caughtUp"));
}

TEST_F(SseTest, AWatchStreamsTheRelationshipsStates) {
  StartServer();
  ImportSeed();
  SseReader reader(http_port_, "/v1/relationships/PRK-JPN:watch");
  ASSERT_TRUE(Eventually([&] { return Has(reader.Events(), "state"); }));
  EXPECT_THAT(reader.Events().front().data, HasSubstr(R"("dyad":"JPN-PRK")"));
  const testing::RunResult appended = Annals(
      {"append", "--stream", "examples",
       absl::StrCat(EXAMPLES_DIR, "/secret_talks_2001_2002.json")});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  ASSERT_TRUE(Eventually([&] { return reader.Events().size() >= 2; }));
  EXPECT_EQ(reader.Events()[1].id, "90");
}

TEST_F(SseTest, StreamsTakeTheRequestsToken) {
  const std::string reader = NewToken("dashboard", "reader");
  StartServer({"--auth-tokens", (dir_ / "tokens").string()});
  SseReader allowed(http_port_, "/v1/subscribe?fromNow",
                    {{"Authorization", "Bearer " + reader}});
  ASSERT_TRUE(Eventually([&] { return Has(allowed.Events(), "caughtUp"); }))
      << allowed.raw();
  httplib::Result anonymous = Client().Get("/v1/subscribe?fromNow");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(anonymous->get_header_value("Content-Type"), "application/json");
}

TEST_F(SseTest, StreamsAndResponsesAreMeasured) {
  const std::string metrics_port_file = (dir_ / "metrics_port").string();
  StartServer({"--metrics-listen", "127.0.0.1:0", "--metrics-port-file",
               metrics_port_file});
  httplib::Client metrics("127.0.0.1",
                          std::stoi(testing::ReadFileOrEmpty(metrics_port_file)));
  EXPECT_EQ(Client().Get("/v1/events/none")->status, 404);
  std::vector<std::unique_ptr<SseReader>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(
        std::make_unique<SseReader>(http_port_, "/v1/subscribe?fromNow"));
    ASSERT_TRUE(Eventually([&] { return Has(readers.back()->Events(), "caughtUp"); }));
  }
  const std::string scraped = metrics.Get("/metrics")->body;
  EXPECT_THAT(scraped, HasSubstr("annals_http_event_streams_open 3\n"));
  EXPECT_THAT(scraped, HasSubstr("annals_http_responses_total{code=\"200\"} 3\n"));
  EXPECT_THAT(scraped, HasSubstr("annals_http_responses_total{code=\"404\"} 1\n"));
  readers.clear();
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(metrics.Get("/metrics")->body,
                             "annals_http_event_streams_open 0\n");
  }));
}

// Streams end when annalsd stops, and it stops promptly with them open.
TEST_F(SseTest, OpenStreamsDoNotHoldUpShutdown) {
  StartServer();
  std::vector<std::unique_ptr<SseReader>> readers;
  for (int i = 0; i < 20; ++i) {
    readers.push_back(
        std::make_unique<SseReader>(http_port_, "/v1/subscribe?fromNow"));
  }
  for (auto& reader : readers) {
    ASSERT_TRUE(Eventually([&] { return Has(reader->Events(), "caughtUp"); }));
  }
  const auto stopping = std::chrono::steady_clock::now();
  kill(server_pid_, SIGTERM);
  EXPECT_EQ(testing::WaitExit(server_pid_), 0);
  server_pid_ = -1;
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));
}

}  // namespace
}  // namespace annals
