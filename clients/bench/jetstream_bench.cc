// annals-bench-jetstream: the limit of cluster mode's appends, JetStream's
// publish alone. Publishes the messages annalsd would publish for
// annals-bench's append-session requests — the same generated events
// (bench::MakeEvent, the same ids and dyads), normalized as annalsd
// normalizes them, each request one message: EncodeEntry of its batch on
// its stream's subject with Nats-Msg-Id = MessageId (storage/jetstream/
// log_entry.h) — to a stream created as annalsd creates its log of record
// (storage/jetstream/nats_client.h: file storage, --replicas replicas, the
// dedupe window), over one connection, as annalsd's publisher does.
//
// --concurrency publisher threads each keep --window messages awaiting
// JetStream's acknowledgment (asynchronous publishes) for --duration; a
// message's latency is from its publish to its acknowledgment, i.e. stored
// on a quorum of the stream's replicas. No replica applies anything: what
// annalsd adds on top (gRPC, validation, applying on every replica) is the
// difference to annals-bench against a cluster.
//
//   annals-bench-jetstream --nats nats://HOST:PORT,... [--stream NAME]
//       [--concurrency 64 --window 8 --batch 1 --duration 3s]
//       [--cpu-pids LABEL=PID,...]
//
// Prints one line, as annals-bench does:
//   scenario=jetstream-publish concurrency=N batch=B window=W events=E
//   seconds=T events_per_s=R calls=C p50_ms=.. p99_ms=.. p999_ms=..
//   cpu_us.client=.. cpu_us.LABEL=.. errors=K
// and exits 1 when a publish failed or nothing was acknowledged.
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/bench/cpu_meter.h"
#include "clients/bench/driver.h"
#include "clients/cli/dashed_flags.h"
#include "services/model/validation.h"
#include "storage/event_log.h"
#include "storage/jetstream/log_entry.h"
#include "storage/jetstream/nats_client.h"

ABSL_FLAG(std::vector<std::string>, nats, {},
          "nats:// URLs of the NATS cluster, comma-separated.");
ABSL_FLAG(std::string, stream, "ANNALS_BENCH",
          "The JetStream stream to publish to (subjects annals.STREAM.*), "
          "created as annalsd creates its log of record when missing. Use "
          "one annalsd does not read.");
ABSL_FLAG(int, replicas, 3, "Replicas of the stream when it is created.");
ABSL_FLAG(int, concurrency, 64, "Publisher threads (annals-bench's sessions).");
ABSL_FLAG(int, window, 8, "Messages awaiting acknowledgment per publisher.");
ABSL_FLAG(int, batch, 1, "Events per message (per append request).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(3), "How long to publish.");
ABSL_FLAG(std::string, run_id, "", "Prefix of event ids (default: the time).");
ABSL_FLAG(std::string, cpu_pids, "",
          "LABEL=PID,... of processes on this machine (NATS servers) whose "
          "CPU per event is reported as cpu_us.LABEL, next to this "
          "process's (cpu_us.client).");

namespace annals::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What the publishers and the acknowledgment handler (the client's own
// thread) share.
struct Publishing {
  int window = 8;
  int batch = 1;
  absl::Mutex mu;
  struct Sent {
    int publisher;
    SteadyClock::time_point at;
  };
  absl::flat_hash_map<const natsMsg*, Sent> sent ABSL_GUARDED_BY(mu);
  std::vector<int> in_flight ABSL_GUARDED_BY(mu);  // by publisher
  std::vector<double> latencies_ms ABSL_GUARDED_BY(mu);
  uint64_t events ABSL_GUARDED_BY(mu) = 0;
  uint64_t errors ABSL_GUARDED_BY(mu) = 0;
  std::string first_error ABSL_GUARDED_BY(mu);
  SteadyClock::time_point last_ack ABSL_GUARDED_BY(mu);

  void Error(std::string error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (errors++ == 0) first_error = std::move(error);
  }
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
           void* closure) {
  auto* p = static_cast<Publishing*>(closure);
  const auto now = SteadyClock::now();
  {
    absl::MutexLock lock(&p->mu);
    auto it = p->sent.find(msg);
    if (it != p->sent.end()) {
      --p->in_flight[static_cast<size_t>(it->second.publisher)];
      p->latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - it->second.at)
              .count());
      p->sent.erase(it);
      p->last_ack = now;
      if (ack != nullptr) {
        p->events += static_cast<uint64_t>(p->batch);
      } else {
        p->Error(absl::StrCat(
            "publish failed: ",
            error != nullptr ? natsStatus_GetText(error->Err) : "no answer",
            error != nullptr && error->ErrText != nullptr
                ? absl::StrCat(" (", error->ErrText, ")")
                : ""));
      }
    }
  }
  natsMsg_Destroy(msg);
}

// The batch annalsd would publish for append-session's request `i` of
// session `s`: its events as annalsd normalizes them, on the derived
// stream (the events' primary dyad), with a principal as annalsd records
// for an anonymous loopback caller.
storage::AppendBatch BatchOf(const std::string& run_id, int s, int i,
                             int batch) {
  storage::AppendBatch out;
  for (int k = 0; k < batch; ++k) {
    v1::Event event =
        MakeEvent(absl::StrCat(run_id, "-s", s, "-", i, "-", k), s * 7919 + i);
    services::NormalizeEvent(&event);
    out.events.push_back(std::move(event));
  }
  out.stream = services::PrimaryDyad(out.events.front());
  out.principal = "anonymous@ipv4:127.0.0.1:40000";
  return out;
}

void Publisher(storage::jetstream::NatsClient& client, Publishing& p, int s,
               const std::string& run_id, absl::Time end) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = 5000;
  for (int i = 0; absl::Now() < end; ++i) {
    const storage::AppendBatch batch = BatchOf(run_id, s, i, p.batch);
    const std::string payload = storage::jetstream::EncodeEntry(batch);
    const std::string id = storage::jetstream::MessageId(batch);
    const std::string subject = client.SubjectOf(batch.stream);
    {
      absl::MutexLock lock(&p.mu);
      auto room = [&p, s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
        return p.in_flight[static_cast<size_t>(s)] < p.window;
      };
      p.mu.Await(absl::Condition(&room));
    }
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, subject.c_str(), nullptr,
                                       payload.data(),
                                       static_cast<int>(payload.size()));
    if (status == NATS_OK) {
      status = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
    }
    const natsMsg* key = msg;
    if (status == NATS_OK) {
      absl::MutexLock lock(&p.mu);
      ++p.in_flight[static_cast<size_t>(s)];
      p.sent[key] = {s, SteadyClock::now()};
    }
    if (status == NATS_OK) {
      status = js_PublishMsgAsync(client.js(), &msg, &options);
    }
    if (status != NATS_OK) {
      natsMsg_Destroy(msg);
      absl::MutexLock lock(&p.mu);
      if (p.sent.erase(key) > 0) --p.in_flight[static_cast<size_t>(s)];
      p.Error(absl::StrCat("cannot publish: ", natsStatus_GetText(status)));
      return;
    }
  }
}

int Run() {
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  Publishing p;
  p.window = std::max(1, absl::GetFlag(FLAGS_window));
  p.batch = std::max(1, absl::GetFlag(FLAGS_batch));
  {
    absl::MutexLock lock(&p.mu);
    p.in_flight.assign(static_cast<size_t>(concurrency), 0);
  }
  std::optional<CpuMeter> cpu =
      CpuMeterOf("annals-bench-jetstream", absl::GetFlag(FLAGS_cpu_pids));
  if (!cpu.has_value()) return 2;
  storage::jetstream::NatsOptions options;
  options.servers = absl::GetFlag(FLAGS_nats);
  options.stream = absl::GetFlag(FLAGS_stream);
  options.replicas = absl::GetFlag(FLAGS_replicas);
  options.max_pending_publishes =
      static_cast<int64_t>(concurrency) * p.window + 64;
  absl::StatusOr<std::unique_ptr<storage::jetstream::NatsClient>> client =
      storage::jetstream::NatsClient::Connect(options, &OnAck, &p);
  if (!client.ok()) {
    std::cerr << "annals-bench-jetstream: " << client.status().message()
              << "\n";
    return 1;
  }
  std::string run_id = absl::GetFlag(FLAGS_run_id);
  if (run_id.empty()) run_id = DefaultRunId();

  cpu->Start();
  const auto start = SteadyClock::now();
  const absl::Time end = absl::Now() + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> publishers;
  for (int s = 0; s < concurrency; ++s) {
    publishers.emplace_back(
        [&, s] { Publisher(**client, p, s, run_id, end); });
  }
  for (std::thread& t : publishers) t.join();
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 10000;
  const natsStatus complete = js_PublishAsyncComplete((*client)->js(), &wait);

  absl::MutexLock lock(&p.mu);
  if (complete != NATS_OK) {
    p.Error(absl::StrCat(p.sent.size(), " publishes unanswered: ",
                         natsStatus_GetText(complete)));
  }
  const double seconds =
      std::chrono::duration<double>(
          (p.latencies_ms.empty() ? SteadyClock::now() : p.last_ack) - start)
          .count();
  const std::string cpu_used = cpu->Report(static_cast<double>(p.events));
  const size_t calls = p.latencies_ms.size();
  std::cout << absl::StrFormat(
      "scenario=jetstream-publish concurrency=%d batch=%d window=%d "
      "replicas=%d events=%d seconds=%.2f events_per_s=%.0f calls=%d "
      "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f%s errors=%d\n",
      concurrency, p.batch, p.window, options.replicas, p.events, seconds,
      static_cast<double>(p.events) / std::max(seconds, 1e-9), calls,
      Percentile(p.latencies_ms, 0.50), Percentile(p.latencies_ms, 0.99),
      Percentile(p.latencies_ms, 0.999), cpu_used, p.errors);
  if (p.errors > 0) std::cerr << "first error: " << p.first_error << "\n";
  return p.errors == 0 && p.events > 0 ? 0 : 1;
}

}  // namespace
}  // namespace annals::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "annals-bench-jetstream --nats nats://HOST:PORT,... [--stream NAME] "
      "[--concurrency 64 --window 8 --batch 1 --duration 3s] "
      "[--cpu-pids LABEL=PID,...]");
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_nats).empty()) {
    std::cerr << "annals-bench-jetstream: --nats is required\n";
    return 2;
  }
  const int code = annals::bench::Run();
  nats_Close();
  return code;
}
