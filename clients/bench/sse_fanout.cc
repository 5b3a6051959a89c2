#include "clients/bench/sse_fanout.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "clients/bench/driver.h"
#include "clients/bench/paced_appends.h"
#include "clients/bench/process_stats.h"
#include "clients/bench/sse_stream.h"

namespace annals::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Each stream's read buffer for its decoded body.
constexpr size_t kBodyBuffer = 16 << 10;

struct Delivery {
  uint64_t position;
  int64_t received_ns;  // SteadyNowNs
};

// What the streams tell the thread that runs the figure.
struct Progress {
  absl::Mutex mu;
  int ready ABSL_GUARDED_BY(mu) = 0;  // live (caughtUp), or ended
  int done ABSL_GUARDED_BY(mu) = 0;   // ended
};

// One `GET /v1/subscribe` event stream. Every handler runs on the
// stream's strand, and from Start to the end exactly one operation is in
// flight (connect, write, read) outside them: a handler that ends the
// stream does so itself, while what EndAt and StopSoon post only closes
// the socket, which ends the operation in flight and so the stream. Read
// the results once it has ended.
class SseStream {
 public:
  SseStream(net::io_context& io, Progress* progress, const HttpTarget& target,
            const std::string& path, size_t planned)
      : progress_(progress),
        stream_(net::make_strand(io)),
        request_(http::verb::get, path, 11),
        body_(new char[kBodyBuffer]) {
    request_.set(http::field::host, target.host_header);
    request_.set(http::field::accept, "text/event-stream");
    if (!target.authorization.empty()) {
      request_.set(http::field::authorization, target.authorization);
    }
    parser_.body_limit((std::numeric_limits<uint64_t>::max)());
    // Beast reads at most the buffer's free capacity (512 bytes at first).
    buffer_.reserve(kBodyBuffer);
    deliveries_.reserve(planned + 1);
  }

  void Start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(
        endpoints, [this](beast::error_code error, const tcp::endpoint&) {
          if (error) return Failed("connect", error);
          beast::error_code ignored;
          stream_.socket().set_option(tcp::no_delay(true), ignored);
          http::async_write(stream_, request_,
                            [this](beast::error_code error, size_t) {
                              if (error) return Failed("write", error);
                              ReadHeader();
                            });
        });
  }

  // The end marker is at `position`: the stream stops once it has it.
  void EndAt(uint64_t position) {
    net::post(stream_.get_executor(), [this, position] {
      end_position_ = position;
      if (last_position_ >= position && !done_) {
        saw_end_ = true;
        Close();
      }
    });
  }

  // Closes the connection; the operation in flight ends the stream.
  void StopSoon() {
    net::post(stream_.get_executor(), [this] {
      if (!done_) Close();
    });
  }

  // After the end.
  const std::vector<Delivery>& deliveries() const { return deliveries_; }
  const std::string& error() const { return error_; }
  uint64_t fell_behind() const { return fell_behind_; }
  uint64_t heartbeats() const { return sse_.comments(); }
  uint64_t bytes() const { return bytes_; }

 private:
  void ReadHeader() {
    http::async_read_header(
        stream_, buffer_, parser_, [this](beast::error_code error, size_t) {
          if (error) return Failed("read", error);
          const auto& head = parser_.get();
          const beast::string_view type = head[http::field::content_type];
          refused_ = head.result() != http::status::ok ||
                     !type.starts_with("text/event-stream");
          if (refused_) {
            error_ = absl::StrCat("HTTP ", head.result_int(), " ");
          }
          ReadBody();
        });
  }

  void ReadBody() {
    parser_.get().body().data = body_.get();
    parser_.get().body().size = kBodyBuffer;
    http::async_read_some(
        stream_, buffer_, parser_,
        [this](beast::error_code error, size_t) { OnBody(error); });
  }

  void OnBody(beast::error_code error) {
    const int64_t received = SteadyNowNs();
    if (error == http::error::need_buffer) error = {};
    const size_t got = kBodyBuffer - parser_.get().body().size;
    bytes_ += got;
    if (refused_) {
      // The error's JSON, for the report.
      error_.append(body_.get(), std::min<size_t>(got, 300));
      if (error || parser_.is_done()) return End("");
      return ReadBody();
    }
    sse_.Feed(absl::string_view(body_.get(), got),
              [&](const SseEvent& event) { OnEvent(event, received); });
    if (!error_.empty() || saw_end_) return End("");
    if (error) return Failed("read", error);
    if (parser_.is_done()) return End("the stream ended before the end marker");
    ReadBody();
  }

  void OnEvent(const SseEvent& event, int64_t received) {
    if (!error_.empty() || saw_end_) return;
    if (event.type == "event") {
      uint64_t position = 0;
      if (!absl::SimpleAtoi(event.id, &position) || event.data.size() < 2 ||
          event.data.front() != '{' || event.data.back() != '}') {
        error_ = absl::StrCat("an event that does not parse: id '", event.id,
                              "', data '", event.data.substr(0, 100), "'");
        return;
      }
      deliveries_.push_back({position, received});
      last_position_ = std::max(last_position_, position);
      if (end_position_ > 0 && position >= end_position_) saw_end_ = true;
    } else if (event.type == "caughtUp") {
      Ready();
    } else if (event.type == "fellBehind") {
      ++fell_behind_;
    } else if (event.type == "error") {
      error_ = absl::StrCat("event: error ", event.data.substr(0, 300));
    }
  }

  // An operation failed: the end of the stream, an error unless the
  // stream was closed on purpose.
  void Failed(absl::string_view what, const beast::error_code& error) {
    End(closing_ ? "" : absl::StrCat(what, ": ", error.message()));
  }

  void Close() {
    closing_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  void End(std::string error) {
    if (done_) return;
    done_ = true;
    if (error_.empty()) error_ = std::move(error);
    if (!closing_) Close();
    Ready();
    absl::MutexLock lock(&progress_->mu);
    ++progress_->done;
  }

  void Ready() {
    if (ready_) return;
    ready_ = true;
    absl::MutexLock lock(&progress_->mu);
    ++progress_->ready;
  }

  Progress* const progress_;
  beast::tcp_stream stream_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  std::unique_ptr<char[]> body_;
  SseParser sse_;
  // On the strand.
  bool refused_ = false;  // not a 200 event stream: read its error
  bool ready_ = false;
  bool closing_ = false;  // Close ran
  bool saw_end_ = false;
  bool done_ = false;
  uint64_t end_position_ = 0;  // 0 until EndAt
  uint64_t last_position_ = 0;
  uint64_t fell_behind_ = 0;
  uint64_t bytes_ = 0;
  std::vector<Delivery> deliveries_;
  std::string error_;
};

// What the streams received against what was appended.
struct Tally {
  uint64_t delivered = 0;   // appended events received (not the end)
  uint64_t missed = 0;      // expected positions a stream did not get
  uint64_t duplicated = 0;  // positions at or below one received before
  uint64_t unexpected = 0;  // positions nobody appended
  uint64_t short_streams = 0;
  std::vector<float> latencies_ms;
};

// Checks every stream's positions against `expected` (sorted: the
// appended events' positions with their index, and the end marker's with
// index `end_index`) and gathers the latencies.
Tally Check(const std::vector<std::unique_ptr<SseStream>>& streams,
            const std::vector<std::pair<uint64_t, uint64_t>>& expected,
            uint64_t end_index, const PacedAppends& appends) {
  Tally tally;
  for (const auto& stream : streams) {
    uint64_t previous = 0;
    uint64_t found = 0;
    for (const Delivery& d : stream->deliveries()) {
      if (d.position <= previous) {
        ++tally.duplicated;
        continue;
      }
      previous = d.position;
      const auto it = std::lower_bound(expected.begin(), expected.end(),
                                       std::make_pair(d.position, uint64_t{0}));
      if (it == expected.end() || it->first != d.position) {
        ++tally.unexpected;
        continue;
      }
      ++found;
      if (it->second == end_index) continue;
      ++tally.delivered;
      const int64_t sent = appends.sent_at(it->second);
      tally.latencies_ms.push_back(
          static_cast<float>(static_cast<double>(d.received_ns - sent) / 1e6));
    }
    tally.missed += expected.size() - found;
    if (found != expected.size()) ++tally.short_streams;
  }
  return tally;
}

// annalsd's resident set in MiB, -1 without --server-pid.
int64_t ServerRssMib(pid_t pid) {
  if (pid <= 0) return -1;
  const int64_t kib = ProcessRssKib(pid);
  return kib < 0 ? -1 : kib / 1024;
}

}  // namespace

int RunSseFanout(const SseFanoutOptions& options) {
  const int streams = std::max(1, options.streams);
  const double rate = std::max(1.0, options.rate);
  const uint64_t planned = std::max<uint64_t>(
      1, static_cast<uint64_t>(rate * absl::ToDoubleSeconds(options.duration)));
  PacedAppends appends({.stream = absl::StrCat("ssefanout-", options.run_id),
                        .rate = rate,
                        .events = planned});
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < std::max(1, options.channels); ++c) {
    clients.push_back(std::make_unique<Client>(
        BenchChannel(options.endpoint, c), absl::Seconds(60)));
  }
  if (options.warmup > absl::ZeroDuration()) {
    appends.Warmup(*clients[0], options.warmup);
  }
  const pid_t server = options.server_pid;
  const int64_t rss_before = ServerRssMib(server);

  // Declared before the streams: their sockets go first.
  net::io_context io(std::max(1, options.threads));
  tcp::resolver resolver(io);
  beast::error_code resolve_error;
  const tcp::resolver::results_type endpoints =
      resolver.resolve(options.target.host, options.target.port, resolve_error);
  if (resolve_error) {
    std::cerr << "annals-bench: cannot resolve " << options.target.host_header
              << ": " << resolve_error.message() << "\n";
    return 1;
  }
  const std::string path =
      absl::StrCat("/v1/subscribe?fromNow&maxEventsPerMessage=",
                   std::max(1, options.events_per_message));
  Progress progress;
  std::vector<std::unique_ptr<SseStream>> subs;
  for (int i = 0; i < streams; ++i) {
    subs.push_back(std::make_unique<SseStream>(io, &progress, options.target,
                                               path, planned));
    subs.back()->Start(endpoints);
  }
  auto work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.threads); ++t) {
    threads.emplace_back([&io] { io.run(); });
  }
  auto wait_for = [&progress](int Progress::*count, int want,
                              absl::Duration timeout) {
    absl::MutexLock lock(&progress.mu);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(progress.mu) {
      return progress.*count >= want;
    };
    progress.mu.AwaitWithTimeout(absl::Condition(&reached), timeout);
    return std::make_pair(progress.ready, progress.done);
  };
  const auto [ready, ended_early] =
      wait_for(&Progress::ready, streams, absl::Seconds(60));
  const int live = ready - ended_early;
  const int64_t rss_open = ServerRssMib(server);

  // Measured from the first append to the last stream's end.
  auto threads_cpu = [&threads] {
    double sum = 0;
    for (std::thread& t : threads) sum += ThreadCpuSeconds(t.native_handle());
    return sum;
  };
  const double client_cpu_before = SelfCpuSeconds();
  const double streams_cpu_before = threads_cpu();
  const double server_cpu_before = server > 0 ? ProcessCpuSeconds(server) : 0;
  std::atomic<int64_t> rss_max{rss_open};
  std::atomic<bool> sampling{server > 0};
  std::thread sampler([&] {
    while (sampling.load()) {
      rss_max.store(std::max(rss_max.load(), ServerRssMib(server)));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  appends.Run(clients);
  const double seconds = appends.seconds();
  const absl::StatusOr<uint64_t> end = appends.AppendEnd(*clients[0]);
  for (auto& sub : subs) {
    if (end.ok()) {
      sub->EndAt(*end);
    } else {
      sub->StopSoon();
    }
  }
  const bool all_ended =
      wait_for(&Progress::done, streams, absl::Seconds(60)).second >= streams;
  if (!all_ended) {
    for (auto& sub : subs) sub->StopSoon();
    wait_for(&Progress::done, streams, absl::Seconds(10));
  }
  const double client_cpu = SelfCpuSeconds() - client_cpu_before;
  const double streams_cpu = threads_cpu() - streams_cpu_before;
  const double server_cpu =
      server > 0 ? ProcessCpuSeconds(server) - server_cpu_before : 0;
  sampling.store(false);
  sampler.join();
  work.reset();
  io.stop();
  for (std::thread& t : threads) t.join();

  std::vector<std::pair<uint64_t, uint64_t>> expected;
  for (uint64_t i = 0; i < planned; ++i) {
    if (appends.position(i) > 0) expected.emplace_back(appends.position(i), i);
  }
  if (end.ok()) expected.emplace_back(*end, planned);
  std::sort(expected.begin(), expected.end());
  Tally tally = Check(subs, expected, planned, appends);
  uint64_t failed = 0;
  uint64_t fell_behind = 0;
  uint64_t heartbeats = 0;
  uint64_t bytes = 0;
  std::string first_error;
  for (const auto& sub : subs) {
    if (!sub->error().empty()) {
      ++failed;
      if (first_error.empty()) first_error = sub->error();
    }
    fell_behind += sub->fell_behind();
    heartbeats += sub->heartbeats();
    bytes += sub->bytes();
  }
  const uint64_t errors = appends.errors() + failed + tally.missed +
                          tally.duplicated + tally.unexpected +
                          (live == streams ? 0 : 1) + (all_ended ? 0 : 1);
  std::vector<float>& latencies = tally.latencies_ms;
  const float max_ms =
      latencies.empty() ? 0
                        : *std::max_element(latencies.begin(), latencies.end());
  std::string server_figures;
  if (server > 0) {
    server_figures = absl::StrFormat(
        " server_cpu_s=%.2f server_rss_mib_before=%d server_rss_mib_open=%d "
        "server_rss_mib_max=%d",
        server_cpu, rss_before, rss_open, rss_max.load());
  }
  const double delivered = static_cast<double>(tally.delivered);
  std::cout << absl::StrFormat(
      "scenario=sse-fanout subscribers=%d rate=%.0f warmup_s=%g threads=%d "
      "events=%d seconds=%.2f events_per_s=%.0f deliveries=%d "
      "deliveries_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
      "max_ms=%.3f append_p99_ms=%.3f missed=%d duplicated=%d unexpected=%d "
      "short_streams=%d fell_behind=%d heartbeats=%d mb_per_s=%.1f "
      "client_cpu_s=%.2f stream_threads_cpu_s=%.2f "
      "stream_cpu_us_per_delivery=%.2f%s errors=%d\n",
      streams, rate, absl::ToDoubleSeconds(options.warmup), threads.size(),
      appends.appended(), seconds,
      static_cast<double>(appends.appended()) / seconds, tally.delivered,
      delivered / seconds, Percentile(latencies, 0.50),
      Percentile(latencies, 0.99), Percentile(latencies, 0.999), max_ms,
      Percentile(appends.append_ms(), 0.99), tally.missed, tally.duplicated,
      tally.unexpected, tally.short_streams, fell_behind, heartbeats,
      static_cast<double>(bytes) / seconds / 1e6, client_cpu, streams_cpu,
      delivered > 0 ? streams_cpu / delivered * 1e6 : 0.0, server_figures,
      errors);
  std::cout.flush();
  if (appends.errors() > 0) {
    std::cerr << "first error: " << appends.first_error() << "\n";
  }
  if (!first_error.empty()) std::cerr << "first error: " << first_error << "\n";
  if (live != streams) {
    std::cerr << "only " << live << " of " << streams
              << " event streams became live within 60 s\n";
  }
  if (!all_ended) {
    std::cerr << "event streams did not end within 60 s of the last append\n";
  }
  if (tally.short_streams > 0) {
    std::cerr << tally.short_streams << " streams missed " << tally.missed
              << " positions in all\n";
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace annals::bench
