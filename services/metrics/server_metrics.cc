#include "services/metrics/server_metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "services/metrics/process_figures.h"
#include "absl/status/status.h"

namespace annals::metrics {
namespace {

constexpr double kNanos = 1e-9;

// "/annals.v1.EventLog/Append" -> {"annals.v1.EventLog", "Append"}.
LabelValues ServiceAndMethod(absl::string_view full) {
  absl::ConsumePrefix(&full, "/");
  const size_t slash = full.rfind('/');
  if (slash == absl::string_view::npos) return {std::string(full), ""};
  return {std::string(full.substr(0, slash)),
          std::string(full.substr(slash + 1))};
}

// The name of `code`, for a label ("UNKNOWN" beyond the known codes).
std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(
      code >= 0 && code < kCodes ? code : 2));
}

// Times one call from its creation (when gRPC starts it) to its status.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerMetrics* metrics, const char* method)
      : metrics_(metrics),
        method_(metrics->MethodOf(method != nullptr ? method : "")) {
    method_.started->Add();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->HandledOf(method_, methods->GetSendStatus().error_code()).Add();
      method_.seconds->ObserveDuration(absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  ServerMetrics* const metrics_;
  ServerMetrics::Method& method_;
  const absl::Time start_ = absl::Now();
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(ServerMetrics* metrics)
      : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  ServerMetrics* const metrics_;
};

}  // namespace

ServerMetrics::ServerMetrics(const std::string& version,
                             const std::string& commit) {
  registry_
      .AddGauge("annals_build_info",
                "The version and commit annalsd was built from (always 1).",
                {"version", "commit"})
      ->With({version, commit})
      .Set(1);
  Family<Counter>* append_requests = registry_.AddCounter(
      "annals_append_requests_total",
      "Append requests (unary and in sessions) by stream kind (dyad: the "
      "events' dyad; named: a stream the writer named) and gRPC code.",
      {"stream", "code"});
  Family<Counter>* appended_events = registry_.AddCounter(
      "annals_appended_events_total",
      "Events recorded by successful appends (idempotent retries excluded), "
      "by stream kind.",
      {"stream"});
  // The series by code are made when first used (a scrape shows the codes
  // that happened); the pointers are kept for the hot path.
  append_requests_family_ = append_requests;
  appended_events_[0] = &appended_events->With({"named"});
  appended_events_[1] = &appended_events->With({"dyad"});
  idempotent_retries_ = &registry_
      .AddCounter("annals_append_idempotent_retries_total",
                  "Appends answered with the positions recorded before "
                  "(already_recorded).")
      ->With({});
  append_seconds_ = &registry_
      .AddHistogram("annals_append_duration_seconds",
                    "Time from an append request to its answer (durable "
                    "or refused).",
                    LatencyBounds(), kNanos)
      ->With({});
  group_events_ = &registry_
      .AddHistogram("annals_commit_group_events",
                    "Events per commit group (one WriteBatch).",
                    PowersOfTwo(16), 1)
      ->With({});
  projection_seconds_ = &registry_
      .AddHistogram("annals_commit_projection_duration_seconds",
                    "Time the projections of one commit group took.",
                    LatencyBounds(), kNanos)
      ->With({});
  sync_seconds_ = &registry_
      .AddHistogram("annals_wal_sync_duration_seconds",
                    "Time of one WAL fsync (it makes every group written "
                    "before it durable).",
                    LatencyBounds(), kNanos)
      ->With({});
  rebuild_replayed_ = &registry_
      .AddGauge("annals_projection_rebuild_replayed_positions",
                "Positions the last (or current) projection rebuild has "
                "replayed.")
      ->With({});
  rebuild_total_ = &registry_
      .AddGauge("annals_projection_rebuild_positions",
                "Positions the last (or current) projection rebuild replays.")
      ->With({});
  rpc_started_ = registry_.AddCounter(
      "annals_grpc_server_started_total", "RPCs started, by method.",
      {"grpc_service", "grpc_method"});
  rpc_handled_ = registry_.AddCounter(
      "annals_grpc_server_handled_total",
      "RPCs finished, by method and status code.",
      {"grpc_service", "grpc_method", "grpc_code"});
  rpc_seconds_ = registry_.AddHistogram(
      "annals_grpc_server_handling_seconds",
      "Time from an RPC's start to its status, by method (for streams, "
      "their whole life).",
      LatencyBounds(), kNanos, {"grpc_service", "grpc_method"});
  delivered_ = &registry_
      .AddCounter("annals_subscription_events_delivered_total",
                  "Events written to subscribers.")
      ->With({});
  fell_behind_ = &registry_
      .AddCounter("annals_subscription_fell_behind_total",
                  "Times a live subscriber consumed slower than the log grew "
                  "and fell out of the live window (a slow consumer).")
      ->With({});
  lag_ = &registry_
      .AddHistogram("annals_subscription_lag_events",
                    "Positions between the head and the last event of each "
                    "message written to a subscriber.",
                    PowersOfTwo(21), 1)
      ->With({});
  http_responses_ = registry_.AddCounter(
      "annals_http_responses_total",
      "HTTP responses (--http-listen) by status code; an event stream counts "
      "once, when it starts.",
      {"code"});
  http_streams_ = &registry_
      .AddGauge("annals_http_event_streams_open",
                "Server-sent event streams open over HTTP.")
      ->With({});
}

void ServerMetrics::Watch(const storage::EventLog* log,
                          const services::SubscriptionHub* hub,
                          std::string data_dir) {
  registry_.AddSampled("annals_log_head_position",
                       "The log's head: the position of its last event.",
                       false, {}, [log](Registry::Samples* out) {
                         out->push_back(
                             {{}, static_cast<double>(log->GetHead().position)});
                       });
  auto replication = [this, log](std::string name, std::string help,
                                 auto value) {
    registry_.AddSampled(std::move(name), std::move(help), false, {},
                         [log, value](Registry::Samples* out) {
                           if (auto r = log->Replication(); r.has_value()) {
                             out->push_back({{}, static_cast<double>(value(*r))});
                           }
                         });
  };
  using Replication = storage::ReplicationFigures;
  replication("annals_replica_applied_sequence",
              "Cluster mode: the log of record's last sequence this replica "
              "applied.",
              [](const Replication& r) { return r.applied; });
  replication("annals_replica_log_of_record_sequence",
              "Cluster mode: the log of record's last sequence, as this "
              "replica last saw it.",
              [](const Replication& r) { return r.last; });
  replication("annals_replica_behind_appends",
              "Cluster mode: appends of the log of record this replica has "
              "yet to apply.",
              [](const Replication& r) {
                return r.last > r.applied ? r.last - r.applied : 0;
              });
  registry_.AddSampled(
      "annals_subscriptions_open", "Open Subscribe and WatchRelationship calls.",
      false, {}, [hub](Registry::Samples* out) {
        out->push_back(
            {{}, hub == nullptr ? 0.0 : static_cast<double>(hub->subscriptions())});
      });
  log_ = log;
  data_dir_ = std::move(data_dir);
  // The families below read the scrape's one sample (Render).
  using Figures = storage::StorageFigures;
  auto per_family = [this](std::string name, std::string help,
                                uint64_t Figures::Family::*field) {
    registry_.AddSampled(
        std::move(name), std::move(help), false, {"cf"},
        [this, field](Registry::Samples* out) {
          render_mu_.AssertHeld();
          for (const Figures::Family& f : sample_.storage.families) {
            out->push_back({{f.name}, static_cast<double>(f.*field)});
          }
        });
  };
  per_family("annals_rocksdb_live_sst_bytes",
             "Bytes of the live SST files of each column family.",
             &Figures::Family::live_sst_bytes);
  per_family("annals_rocksdb_memtable_bytes",
             "Bytes of the memtables of each column family.",
             &Figures::Family::memtable_bytes);
  per_family("annals_rocksdb_pending_compaction_bytes",
             "Bytes RocksDB estimates compaction has to rewrite, per column "
             "family.",
             &Figures::Family::pending_compaction_bytes);
  per_family("annals_rocksdb_level0_tables",
             "Level-0 tables of each column family (each one more table for "
             "reads to seek in).",
             &Figures::Family::level0_tables);
  auto whole = [this](std::string name, std::string help, bool counter,
                           double scale, uint64_t Figures::*field) {
    registry_.AddSampled(std::move(name), std::move(help), counter, {},
                         [this, field, scale](Registry::Samples* out) {
                           render_mu_.AssertHeld();
                           out->push_back(
                               {{}, static_cast<double>(sample_.storage.*field) *
                                        scale});
                         });
  };
  whole("annals_rocksdb_block_cache_usage_bytes",
        "Bytes held by the block cache shared by every column family.", false,
        1, &Figures::block_cache_usage_bytes);
  whole("annals_rocksdb_block_cache_capacity_bytes",
        "Capacity of the block cache.", false, 1,
        &Figures::block_cache_capacity_bytes);
  whole("annals_rocksdb_block_cache_hits_total",
        "Block cache lookups that hit (hit ratio: hits / (hits + misses)).",
        true, 1, &Figures::block_cache_hits);
  whole("annals_rocksdb_block_cache_misses_total",
        "Block cache lookups that missed.", true, 1,
        &Figures::block_cache_misses);
  whole("annals_rocksdb_write_stall_seconds_total",
        "Time writes were stalled or slowed by RocksDB.", true, 1e-6,
        &Figures::write_stall_micros);
  whole("annals_rocksdb_writes_after_oldest_snapshot",
        "RocksDB writes after the oldest snapshot still held (a long-held "
        "snapshot keeps versions and defers compaction work).",
        false, 1, &Figures::writes_after_oldest_snapshot);
  registry_.AddSampled("annals_data_dir_size_bytes",
                       "Size of the file system holding the data directory.",
                       false, {}, [this](Registry::Samples* out) {
                         render_mu_.AssertHeld();
                         out->push_back(
                             {{}, static_cast<double>(
                                      sample_.disk.size_bytes)});
                       });
  registry_.AddSampled(
      "annals_data_dir_available_bytes",
      "Bytes available on the file system holding the data directory.", false,
      {}, [this](Registry::Samples* out) {
        render_mu_.AssertHeld();
        out->push_back(
            {{}, static_cast<double>(sample_.disk.available_bytes)});
      });
  auto process = [this](std::string name, std::string help, bool counter,
                        auto value) {
    registry_.AddSampled(std::move(name), std::move(help), counter, {},
                         [this, value](Registry::Samples* out) {
                           render_mu_.AssertHeld();
                           out->push_back(
                               {{}, static_cast<double>(value(sample_.process))});
                         });
  };
  process("process_cpu_seconds_total", "User and system CPU time.", true,
          [](const ProcessFigures& p) { return p.cpu_seconds; });
  process("process_resident_memory_bytes", "Resident memory.", false,
          [](const ProcessFigures& p) { return p.resident_bytes; });
  process("process_virtual_memory_bytes", "Virtual memory.", false,
          [](const ProcessFigures& p) { return p.virtual_bytes; });
  process("process_open_fds", "Open file descriptors.", false,
          [](const ProcessFigures& p) { return p.open_fds; });
  process("process_max_fds", "The limit of open file descriptors.", false,
          [](const ProcessFigures& p) { return p.max_fds; });
  process("process_threads", "Threads of the process.", false,
          [](const ProcessFigures& p) { return p.threads; });
  process("process_start_time_seconds",
          "Start time of the process since the Unix epoch.", false,
          [](const ProcessFigures& p) { return p.start_time_seconds; });
}

std::string ServerMetrics::Render() const {
  absl::MutexLock lock(&render_mu_);
  if (log_ != nullptr) {
    sample_ = {log_->Figures(), ReadDiskFigures(data_dir_),
               ReadProcessFigures()};
  }
  return registry_.Render();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
ServerMetrics::InterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

void ServerMetrics::GroupWritten(size_t events, absl::Duration projection) {
  group_events_->Observe(events);
  projection_seconds_->ObserveDuration(projection);
}

void ServerMetrics::Synced(absl::Duration sync) {
  sync_seconds_->ObserveDuration(sync);
}

void ServerMetrics::RebuildProgress(uint64_t replayed, uint64_t total) {
  rebuild_replayed_->Set(static_cast<int64_t>(replayed));
  rebuild_total_->Set(static_cast<int64_t>(total));
}

void ServerMetrics::Appended(bool dyad_stream, absl::StatusCode code,
                             size_t events, bool already_recorded,
                             absl::Duration latency) {
  const int kind = dyad_stream ? 1 : 0;
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) index = 2;  // UNKNOWN
  std::atomic<Counter*>& slot = append_requests_[kind][index];
  Counter* requests = slot.load(std::memory_order_acquire);
  if (requests == nullptr) {
    requests = &append_requests_family_->With(
        {kind == 1 ? "dyad" : "named", CodeName(index)});
    slot.store(requests, std::memory_order_release);
  }
  requests->Add();
  append_seconds_->ObserveDuration(latency);
  if (code != absl::StatusCode::kOk) return;
  if (already_recorded) {
    idempotent_retries_->Add();
  } else {
    appended_events_[kind]->Add(events);
  }
}

void ServerMetrics::Delivered(size_t events, uint64_t lag) {
  delivered_->Add(events);
  lag_->Observe(lag);
}

void ServerMetrics::FellBehind() { fell_behind_->Add(); }

void ServerMetrics::Responded(int status) {
  http_responses_->With({absl::StrCat(status)}).Add();
}

void ServerMetrics::StreamOpened() { http_streams_->Add(1); }

void ServerMetrics::StreamClosed() { http_streams_->Add(-1); }

ServerMetrics::Method& ServerMetrics::MethodOf(absl::string_view full_name) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = methods_.find(full_name); it != methods_.end()) {
      return it->second;
    }
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = methods_.try_emplace(std::string(full_name));
  Method& method = it->second;
  if (inserted) {
    method.labels = ServiceAndMethod(full_name);
    method.started = &rpc_started_->With(method.labels);
    method.seconds = &rpc_seconds_->With(method.labels);
  }
  return method;
}

Counter& ServerMetrics::HandledOf(Method& method, int code) {
  if (code < 0 || code >= kCodes) code = 2;  // UNKNOWN
  Counter* counter = method.handled[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    LabelValues labels = method.labels;
    labels.push_back(CodeName(code));
    counter = &rpc_handled_->With(labels);  // the same child every time
    method.handled[code].store(counter, std::memory_order_release);
  }
  return *counter;
}

}  // namespace annals::metrics
