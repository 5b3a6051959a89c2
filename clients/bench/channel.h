// The channel every annals-bench scenario connects with.
#ifndef ANNALS_CLIENTS_BENCH_CHANNEL_H_
#define ANNALS_CLIENTS_BENCH_CHANNEL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clients/cpp/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace annals::bench {

// Where annals-bench connects, and how: TLS and the bearer token from the
// connection flags (clients/cli/connection_flags.h), loaded once.
struct Endpoint {
  std::string server;  // HOST:PORT
  ClientCredentials credentials;
  // Replicas of one annalsd cluster (HOST:PORT each), or none: channel `n`
  // then connects to replicas[n % replicas.size()] instead of `server`, so
  // that a scenario's load is spread over them round robin.
  std::vector<std::string> replicas = {};
};

// Where channel `n` to `endpoint` connects.
inline const std::string& ServerOf(const Endpoint& endpoint, int n) {
  if (endpoint.replicas.empty() || n < 0) return endpoint.server;
  return endpoint.replicas[static_cast<size_t>(n) % endpoint.replicas.size()];
}

// Channel `n` to `endpoint` (to ServerOf(endpoint, n)), secured as it says (every call carries its
// token): channels with distinct `n` are distinct connections, so that
// benchmark clients do not share one HTTP/2 connection. Messages up to
// 64 MiB.
//
// `stream_window` > 0: each stream's HTTP/2 receive window is that many
// bytes, fixed (no BDP probing, which grows it to megabytes). A live
// subscriber wants that: annalsd writes a subscription's next message when
// the last one is taken by the transport, so a small window makes the
// events that arrive meanwhile wait in annalsd and leave together in one
// message, instead of queueing in the connection one message each.
inline std::shared_ptr<grpc::Channel> BenchChannel(const Endpoint& endpoint,
                                                   int n,
                                                   int stream_window = 0) {
  grpc::ChannelArguments args;
  args.SetInt("annals.bench.channel", n);
  args.SetMaxReceiveMessageSize(64 << 20);
  if (stream_window > 0) {
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, stream_window);
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  return CreateChannel(ServerOf(endpoint, n), endpoint.credentials,
                       std::move(args));
}

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_CHANNEL_H_
