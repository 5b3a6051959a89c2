// The metrics of annalsd (docs/operations.md lists them): what the log,
// the append path, every RPC and the subscriptions report as they work,
// and what is sampled when /metrics is read (the head, RocksDB's figures,
// open subscriptions, the data directory's disk, the process).
#ifndef ANNALS_SERVICES_METRICS_SERVER_METRICS_H_
#define ANNALS_SERVICES_METRICS_SERVER_METRICS_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "services/event_log/append_session.h"
#include "services/metrics/metrics.h"
#include "services/metrics/process_figures.h"
#include "services/http/http_observer.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"

namespace annals::metrics {

// gRPC's (and absl's) status codes: OK (0) ... UNAUTHENTICATED (16).
inline constexpr int kCodes = 17;

class ServerMetrics final : public storage::LogObserver,
                            public services::AppendObserver,
                            public services::DeliveryObserver,
                            public http::HttpObserver {
 public:
  // `version` and `commit` label annals_build_info.
  ServerMetrics(const std::string& version, const std::string& commit);

  // Samples `log`, `hub` (may be null) and the disk of `data_dir` when
  // rendering. Call once, before the first Render; both must outlive this.
  void Watch(const storage::EventLog* log,
             const services::SubscriptionHub* hub, std::string data_dir);

  // Counts and times every RPC of the server it is installed in
  // (grpc::ServerBuilder::experimental().SetInterceptorCreators).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  // The text of /metrics: takes one sample of RocksDB's figures, the disk
  // and the process, which every sampled family reads, then renders.
  std::string Render() const ABSL_LOCKS_EXCLUDED(render_mu_);

  // storage::LogObserver
  void GroupWritten(size_t events, absl::Duration projection) override;
  void Synced(absl::Duration sync) override;
  void RebuildProgress(uint64_t replayed, uint64_t total) override;
  // services::AppendObserver
  void Appended(bool dyad_stream, absl::StatusCode code, size_t events,
                bool already_recorded, absl::Duration latency) override;
  // services::DeliveryObserver
  void Delivered(size_t events, uint64_t lag) override;
  void FellBehind() override;
  // http::HttpObserver
  void Responded(int status) override;
  void StreamOpened() override;
  void StreamClosed() override;

  // The series of one RPC method, found once per call (a reader lock) and
  // then updated with atomics only.
  struct Method {
    LabelValues labels;  // service, method
    Counter* started = nullptr;
    Histogram* seconds = nullptr;
    std::atomic<Counter*> handled[kCodes] = {};  // by code, made when used
  };
  // The series of `full_name` ("/annals.v1.EventLog/Append").
  Method& MethodOf(absl::string_view full_name) ABSL_LOCKS_EXCLUDED(mu_);
  // `method`'s counter of calls that ended with `code`.
  Counter& HandledOf(Method& method, int code);

 private:
  Registry registry_;
  // By dyad (1) or named (0) stream, then status code; made when used.
  Family<Counter>* append_requests_family_;
  std::atomic<Counter*> append_requests_[2][kCodes] = {};
  Counter* appended_events_[2];
  Counter* idempotent_retries_;
  Histogram* append_seconds_;
  Histogram* group_events_;
  Histogram* projection_seconds_;
  Histogram* sync_seconds_;
  Gauge* rebuild_replayed_;
  Gauge* rebuild_total_;
  Family<Counter>* rpc_started_;
  Family<Counter>* rpc_handled_;
  Family<Histogram>* rpc_seconds_;
  Counter* delivered_;
  Counter* fell_behind_;
  Histogram* lag_;
  Family<Counter>* http_responses_;
  Gauge* http_streams_;
  absl::Mutex mu_;
  absl::node_hash_map<std::string, Method> methods_ ABSL_GUARDED_BY(mu_);
  // Set by Watch.
  const storage::EventLog* log_ = nullptr;
  std::string data_dir_;
  // What the scrape in progress sampled; one scrape at a time.
  struct Sample {
    storage::StorageFigures storage;
    DiskFigures disk;
    ProcessFigures process;
  };
  mutable absl::Mutex render_mu_;
  mutable Sample sample_ ABSL_GUARDED_BY(render_mu_);
};

}  // namespace annals::metrics

#endif  // ANNALS_SERVICES_METRICS_SERVER_METRICS_H_
