// annals-bench-redis: the Redis Streams peer. One stream per dyad
// ("annals:JPN-PRK"); an append is a Lua script that, atomically, claims the
// event id (SET annals:id:ID 1 NX — annals' idempotency: an id is recorded
// once) and only then XADDs the event:
//
//   if redis.call('SET', KEYS[2], '1', 'NX') then
//     return redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'data', ARGV[2])
//   end
//   return false
//
// The server must run with appendonly yes and appendfsync always (Redis
// fsyncs its AOF before replying, once per event-loop iteration: its group
// commit). A batch of --batch events is MULTI, --batch EVALSHAs, EXEC, sent
// as one pipeline: atomic like an annals batch. The payload is the same
// stored RecordedEvent bytes annalsd writes (clients/bench/driver.h).
//
// What Redis does less than annals: no expected-version check beyond the
// id, no hash chain or Merkle tree, no projections; stream versions are
// Redis entry ids (time-sequence), not 1, 2, 3.
//
// Every connection is made (and the script loaded) before the measured
// loop; --cpu-pids redis=PID reports redis-server's CPU per event over it
// (clients/bench/cpu_meter.h).
//
//   annals-bench-redis --host 127.0.0.1 --port 6399 --concurrency 64
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/bench/driver.h"
#include "clients/cli/dashed_flags.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Redis host.");
ABSL_FLAG(int, port, 6379, "Redis port.");
ABSL_FLAG(int, concurrency, 8, "Client threads, one connection each.");
ABSL_FLAG(int, batch, 1, "Events per MULTI/EXEC.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "How long.");
ABSL_FLAG(std::string, scenario, "redis_append", "Name on the output line.");

ABSL_FLAG(std::string, cpu_pids, "",
          "LABEL=PID,... of server processes on this machine (redis-server) "
          "whose CPU, with their descendants', per event of the measured "
          "loop is reported as cpu_us.LABEL, next to this process's "
          "(cpu_us.client).");

namespace annals::bench {
namespace {

constexpr const char* kAppendScript =
    "if redis.call('SET', KEYS[2], '1', 'NX') then "
    "return redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'data', ARGV[2]) "
    "end return false";

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

absl::StatusOr<Context> Connect(const std::string& host, int port) {
  Context c(redisConnect(host.c_str(), port));
  if (c == nullptr || c->err) {
    return absl::UnavailableError(absl::StrCat(
        "connect ", host, ":", port, ": ", c ? c->errstr : "out of memory"));
  }
  return c;
}

// Sends argv as one command into the pipeline (not yet flushed).
void Append(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(),
                         lens.data());
}

absl::StatusOr<Reply> GetReply(redisContext* c) {
  void* raw = nullptr;
  if (redisGetReply(c, &raw) != REDIS_OK) {
    return absl::UnavailableError(absl::StrCat("redis: ", c->errstr));
  }
  Reply r(static_cast<redisReply*>(raw));
  if (r->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: ", r->str));
  }
  return r;
}

int Main() {
  const std::string host = absl::GetFlag(FLAGS_host);
  const int port = absl::GetFlag(FLAGS_port);
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int batch = std::max(1, absl::GetFlag(FLAGS_batch));
  std::optional<CpuMeter> cpu =
      CpuMeterOf("annals-bench-redis", absl::GetFlag(FLAGS_cpu_pids));
  if (!cpu.has_value()) return 2;

  std::vector<Context> conns;
  std::string sha;
  for (int t = 0; t < concurrency; ++t) {
    absl::StatusOr<Context> c = Connect(host, port);
    if (!c.ok()) {
      std::fprintf(stderr, "annals-bench-redis: %s\n",
                   c.status().ToString().c_str());
      return 1;
    }
    conns.push_back(*std::move(c));
  }
  {
    Append(conns[0].get(), {"SCRIPT", "LOAD", kAppendScript});
    absl::StatusOr<Reply> r = GetReply(conns[0].get());
    if (!r.ok() || (*r)->type != REDIS_REPLY_STRING) {
      std::fprintf(stderr, "annals-bench-redis: SCRIPT LOAD failed\n");
      return 1;
    }
    sha.assign((*r)->str, (*r)->len);
  }

  const std::string run_id = DefaultRunId();
  auto call = [&](int t, int i) -> absl::Status {
    redisContext* c = conns[t].get();
    const int n = t * 7919 + i;
    const std::string stream = DyadOf(n);
    const std::string key = absl::StrCat("annals:", stream);
    if (batch > 1) Append(c, {"MULTI"});
    for (int k = 0; k < batch; ++k) {
      const std::string id = EventId(run_id, t, i, k);
      Append(c, {"EVALSHA", sha, "2", key, absl::StrCat("annals:id:", id), id,
                 StoredBytes(MakeEvent(id, n), 0, stream, 0)});
    }
    if (batch > 1) Append(c, {"EXEC"});
    const int replies = batch > 1 ? batch + 2 : 1;
    absl::Status status;
    for (int k = 0; k < replies; ++k) {
      absl::StatusOr<Reply> r = GetReply(c);
      if (!r.ok()) {
        if (status.ok()) status = r.status();
        if (absl::IsUnavailable(r.status())) return status;
        continue;
      }
      const bool last = k == replies - 1;
      if (last && (*r)->type == REDIS_REPLY_NIL) {
        status = absl::AbortedError("an event id was already recorded");
      }
      if (last && batch > 1 && (*r)->type == REDIS_REPLY_ARRAY) {
        for (size_t e = 0; e < (*r)->elements; ++e) {
          if ((*r)->element[e]->type != REDIS_REPLY_STRING && status.ok()) {
            status = absl::AbortedError("an append in the batch failed");
          }
        }
      }
    }
    return status;
  };
  RunResult r = RunLoop(concurrency, batch, absl::GetFlag(FLAGS_duration),
                        call, &*cpu);
  return Report(absl::GetFlag(FLAGS_scenario), concurrency, batch, r);
}

}  // namespace
}  // namespace annals::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "annals-bench-redis [--host H] [--port P] [--concurrency N] [--batch N] "
      "[--duration D] [--cpu-pids LABEL=PID,...]");
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  return annals::bench::Main();
}
