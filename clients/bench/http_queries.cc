#include "clients/bench/http_queries.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "clients/bench/driver.h"
#include "clients/bench/process_stats.h"

namespace annals::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// The largest answer read: as gRPC's receive limit in BenchChannel.
constexpr uint64_t kMaxBody = uint64_t{64} << 20;
// Each connection's read buffer, as the gRPC scenario's arena block.
constexpr size_t kReadBuffer = size_t{1} << 20;

// One keep-alive HTTP/1.1 connection, used by one thread at a time;
// connects again after the server closed it or a call failed.
class HttpConnection {
 public:
  explicit HttpConnection(const HttpTarget& target)
      : target_(target), stream_(io_) {
    // Beast reads at most the buffer's free capacity per read (512 bytes
    // at first): room for a whole answer makes a 136 KB state a few reads
    // instead of hundreds.
    buffer_.reserve(kReadBuffer);
  }

  // GETs `path` and reads the whole answer. Returns the body's size, or
  // UNAVAILABLE when the connection failed, UNKNOWN naming the HTTP
  // status (and the start of the body) for an answer other than a 200
  // JSON object.
  absl::StatusOr<size_t> Get(const std::string& path) {
    if (!connected_) {
      if (absl::Status status = Connect(); !status.ok()) return status;
    }
    http::request<http::empty_body> request(http::verb::get, path, 11);
    request.set(http::field::host, target_.host_header);
    request.set(http::field::accept, "application/json");
    if (!target_.authorization.empty()) {
      request.set(http::field::authorization, target_.authorization);
    }
    request.keep_alive(true);
    beast::error_code error;
    http::write(stream_, request, error);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    if (!error) http::read(stream_, buffer_, parser, error);
    if (error) {
      Close();
      return absl::UnavailableError(
          absl::StrCat("GET ", path, ": ", error.message()));
    }
    const http::response<http::string_body>& response = parser.get();
    if (!response.keep_alive()) Close();
    const std::string& body = response.body();
    if (response.result() != http::status::ok || body.size() < 2 ||
        body.front() != '{' || body.back() != '}') {
      return absl::UnknownError(absl::StrCat("GET ", path, ": HTTP ",
                                             response.result_int(), " ",
                                             body.substr(0, 300)));
    }
    return body.size();
  }

  absl::Status Connect() {
    beast::error_code error;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(target_.host, target_.port, error);
    if (!error) stream_.connect(endpoints, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot connect to ", target_.host_header, ": ", error.message()));
    }
    stream_.socket().set_option(tcp::no_delay(true), error);
    buffer_.clear();
    connected_ = true;
    return absl::OkStatus();
  }

 private:
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }

  const HttpTarget target_;
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

struct ThreadStats {
  std::vector<double> latencies_ms;
  uint64_t ok = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// Runs `body(t, stats)` on `threads` threads; their stats.
template <typename Body>
std::vector<ThreadStats> RunThreads(int threads, Body body) {
  std::vector<ThreadStats> stats(static_cast<size_t>(threads));
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { body(t, stats[static_cast<size_t>(t)]); });
  }
  for (auto& thread : running) thread.join();
  return stats;
}

}  // namespace

int RunHttpQueries(const HttpQueryOptions& options) {
  const int concurrency = std::max(1, options.concurrency);
  std::vector<std::unique_ptr<HttpConnection>> connections;
  for (int t = 0; t < concurrency; ++t) {
    connections.push_back(std::make_unique<HttpConnection>(options.target));
    // Connected before any clock starts; one that does not connect shows
    // in the calls.
    (void)connections.back()->Connect();
  }
  if (options.warmup > absl::ZeroDuration()) {
    const absl::Time warm_end = absl::Now() + options.warmup;
    RunThreads(concurrency, [&](int t, ThreadStats&) {
      std::mt19937_64 rng(options.seed * 7919u + static_cast<uint64_t>(t));
      for (uint64_t i = 0; absl::Now() < warm_end; ++i) {
        (void)connections[static_cast<size_t>(t)]->Get(options.path(rng, i));
      }
    });
  }
  const double client_cpu_before = SelfCpuSeconds();
  const double server_cpu_before =
      options.server_pid > 0 ? ProcessCpuSeconds(options.server_pid) : -1;
  const absl::Time start = absl::Now();
  const absl::Time end = start + options.duration;
  std::vector<ThreadStats> per_thread =
      RunThreads(concurrency, [&](int t, ThreadStats& s) {
        HttpConnection& connection = *connections[static_cast<size_t>(t)];
        std::mt19937_64 rng(options.seed * 1000003u + static_cast<uint64_t>(t));
        for (uint64_t i = 0; absl::Now() < end; ++i) {
          const std::string path = options.path(rng, i);
          const auto before = std::chrono::steady_clock::now();
          absl::StatusOr<size_t> bytes = connection.Get(path);
          s.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - before)
                  .count());
          if (bytes.ok()) {
            ++s.ok;
            s.bytes += *bytes;
          } else if (s.errors++ == 0) {
            s.first_error = std::string(bytes.status().message());
          }
        }
      });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double client_cpu = SelfCpuSeconds() - client_cpu_before;
  const double server_cpu =
      options.server_pid > 0
          ? ProcessCpuSeconds(options.server_pid) - server_cpu_before
          : -1;
  ThreadStats all;
  for (ThreadStats& s : per_thread) {
    all.ok += s.ok;
    all.bytes += s.bytes;
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
    all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(),
                            s.latencies_ms.end());
  }
  const double calls = static_cast<double>(all.latencies_ms.size());
  std::string cpu = absl::StrFormat(" client_cpu_us_per_query=%.0f",
                                    calls > 0 ? client_cpu / calls * 1e6 : 0);
  if (server_cpu >= 0) {
    absl::StrAppendFormat(&cpu, " server_cpu_us_per_query=%.0f",
                          calls > 0 ? server_cpu / calls * 1e6 : 0);
  }
  std::cout << absl::StrFormat(
      "scenario=%s %s warmup_s=%g concurrency=%d queries=%d seconds=%.2f "
      "queries_per_s=%.0f results_per_query=%.1f response_bytes=%.0f "
      "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f%s errors=%d\n",
      options.name, options.variant, absl::ToDoubleSeconds(options.warmup),
      concurrency, all.ok, seconds, static_cast<double>(all.ok) / seconds,
      all.ok > 0 ? 1.0 : 0.0,
      all.ok > 0 ? static_cast<double>(all.bytes) / static_cast<double>(all.ok)
                 : 0.0,
      Percentile(all.latencies_ms, 0.50), Percentile(all.latencies_ms, 0.99),
      Percentile(all.latencies_ms, 0.999), cpu, all.errors);
  if (all.errors > 0) std::cerr << "first error: " << all.first_error << "\n";
  return all.errors == 0 && all.ok > 0 ? 0 : 1;
}

}  // namespace annals::bench
