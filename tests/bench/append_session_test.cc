// The append-session scenario's driver (clients/bench/append_session.h)
// against a server that is not there: every session fails, and the
// driver stops sending on it rather than spinning until the run ends.
#include "clients/bench/append_session.h"

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::bench {
namespace {

using ::testing::HasSubstr;

TEST(AppendSessionsTest, ASessionSendsNoMoreOnceItsAppendsFail) {
  ClientOptions options;
  options.server = "127.0.0.1:1";  // nothing listens on port 1
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::unique_ptr<Client>> clients;
  clients.push_back(*std::move(client));
  AppendSessionRun run;
  run.sessions = 4;
  run.window = 2;
  run.duration = absl::Seconds(1);
  run.run_id = "nowhere";
  const AppendSessionResult result = RunAppendSessions(clients, run);
  EXPECT_EQ(result.events, 0u);
  EXPECT_GT(result.errors, 0u);
  EXPECT_THAT(result.first_error, HasSubstr("UNAVAILABLE"));
  // Each session's first window, answered with the session's end, and no
  // request after it.
  EXPECT_LE(result.requests, 8u);
}

}  // namespace
}  // namespace annals::bench
