// annals-bench: drives a running annalsd over gRPC and reports throughput and
// latency percentiles.
//
//   annals-bench --server HOST:PORT --scenario append --concurrency 64
//                --duration 10s [--batch 1]
//
// Scenarios:
//   append  N client threads, each appending batches of --batch events in a
//           loop (each to its own dyad stream, expected version any) for
//           --duration; reports events/s and per-call latency.
//   read    one client reading the whole log forward in pages of 1000;
//           reports events/s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/client.h"
#include "clients/dashed_flags.h"
#include "proto/rpc_status.h"

ABSL_FLAG(std::string, server, "", "annalsd HOST:PORT (default as annals).");
ABSL_FLAG(std::string, scenario, "append", "append | read");
ABSL_FLAG(int, concurrency, 8, "append: client threads.");
ABSL_FLAG(int, channels, 8, "append: gRPC channels the threads share.");
ABSL_FLAG(int, batch, 1, "append: events per Append call.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "append: how long.");
ABSL_FLAG(std::string, run_id, "", "Prefix of event ids (default: the time).");

namespace annals {
namespace {

constexpr const char* kCountries[] = {"JPN", "PRK", "KOR", "USA", "CHN", "RUS",
                                      "FRA", "GBR", "DEU", "IND", "BRA", "ZAF",
                                      "AUS", "CAN", "MEX", "IDN", "TUR", "IRN",
                                      "EGY", "NGA"};
constexpr int kNumCountries = sizeof(kCountries) / sizeof(kCountries[0]);

// An event about the size of a seed timeline event (~600 bytes).
v1::Event MakeEvent(const std::string& id, int n) {
  v1::Event event;
  event.set_id(id);
  const int a = n % kNumCountries;
  const int b = (a + 1 + (n / kNumCountries) % (kNumCountries - 1)) % kNumCountries;
  event.add_source(kCountries[a]);
  event.add_target(kCountries[b]);
  v1::Date* start = event.mutable_occurred()->mutable_start();
  start->set_year(1990 + n % 35);
  start->set_month(1 + n % 12);
  start->set_day(1 + n % 28);
  v1::Meeting* meeting = event.mutable_meeting();
  meeting->set_type(v1::Meeting::TYPE_TALKS);
  meeting->set_level(v1::Meeting::LEVEL_MINISTERS);
  meeting->set_format(v1::Meeting::FORMAT_VISIT);
  meeting->set_place("Capital city of the host");
  meeting->set_outcome(v1::Meeting::OUTCOME_PROGRESS);
  meeting->add_participants("Foreign Minister of the visiting side");
  meeting->add_participants("Foreign Minister of the host");
  event.set_cameo_code("042");
  event.set_summary(
      "The foreign ministers met for talks on bilateral relations, regional "
      "security and trade, and agreed to continue the dialogue at working "
      "level before the end of the year.");
  event.add_tags("diplomacy");
  event.add_tags("security");
  v1::Source* source = event.add_sources();
  source->set_publisher("Benchmark Wire Service");
  source->set_title("Foreign ministers hold talks on relations and security");
  source->set_url("https://example.org/news/foreign-ministers-talks");
  return event;
}

struct Stats {
  std::vector<double> latencies_ms;
  uint64_t events = 0;
  uint64_t errors = 0;
  std::string first_error;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

int RunAppend(const std::string& server) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int num_channels = std::max(1, absl::GetFlag(FLAGS_channels));
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::string run_id = absl::GetFlag(FLAGS_run_id);
  if (run_id.empty()) run_id = absl::StrCat(absl::ToUnixMicros(absl::Now()));

  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < num_channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("annals.bench.channel", c);  // distinct channels, distinct connections
    clients.push_back(std::make_unique<Client>(
        grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args),
        absl::Seconds(30)));
  }
  std::vector<Stats> stats(concurrency);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      Client& client = *clients[t % num_channels];
      Stats& s = stats[t];
      for (int i = 0; absl::Now() < end; ++i) {
        v1::AppendRequest request;
        for (int k = 0; k < batch; ++k) {
          *request.add_events() = MakeEvent(
              absl::StrCat(run_id, "-t", t, "-", i, "-", k), t * 7919 + i);
        }
        const absl::Time before = absl::Now();
        absl::StatusOr<v1::AppendResponse> response = client.Append(request);
        s.latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - before));
        if (response.ok()) {
          s.events += batch;
        } else if (s.errors++ == 0) {
          s.first_error = rpc::OneLine(response.status());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Stats all;
  for (Stats& s : stats) {
    all.events += s.events;
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
    all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(),
                            s.latencies_ms.end());
  }
  std::cout << absl::StrFormat(
      "scenario=append concurrency=%d batch=%d events=%d seconds=%.2f "
      "events_per_s=%.0f calls=%d p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f "
      "errors=%d\n",
      concurrency, batch, all.events, seconds, all.events / seconds,
      all.latencies_ms.size(), Percentile(all.latencies_ms, 0.50),
      Percentile(all.latencies_ms, 0.99), Percentile(all.latencies_ms, 0.999),
      all.errors);
  if (all.errors > 0) std::cerr << "first error: " << all.first_error << "\n";
  return all.errors == 0 && all.events > 0 ? 0 : 1;
}

int RunRead(const std::string& server) {
  ClientOptions options;
  options.server = server;
  options.deadline = absl::Seconds(30);
  Client client(options);
  v1::ReadAllRequest request;
  request.set_limit(1000);
  uint64_t events = 0;
  const absl::Time start = absl::Now();
  for (;;) {
    absl::StatusOr<v1::ReadAllResponse> page = client.ReadAll(request);
    if (!page.ok()) {
      std::cerr << rpc::OneLine(page.status()) << "\n";
      return 1;
    }
    events += page->events_size();
    if (page->end_of_log()) break;
    request.set_from_position(page->next_position());
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "scenario=read events=%d seconds=%.2f events_per_s=%.0f\n", events,
      seconds, events / seconds);
  return events > 0 ? 0 : 1;
}

}  // namespace
}  // namespace annals

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "annals-bench --server HOST:PORT --scenario append|read [--concurrency N]"
      " [--batch N] [--duration D]");
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  const std::string server = absl::GetFlag(FLAGS_server).empty()
                                 ? annals::DefaultServerAddress()
                                 : absl::GetFlag(FLAGS_server);
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (scenario == "append") return annals::RunAppend(server);
  if (scenario == "read") return annals::RunRead(server);
  std::cerr << "annals-bench: unknown --scenario '" << scenario << "'\n";
  return 2;
}
