// The channel every annals-bench scenario connects with.
#ifndef ANNALS_CLIENTS_BENCH_CHANNEL_H_
#define ANNALS_CLIENTS_BENCH_CHANNEL_H_

#include <memory>
#include <string>
#include <utility>

#include "clients/cpp/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace annals::bench {

// Where annals-bench connects, and how: TLS and the bearer token from the
// connection flags (clients/cli/connection_flags.h), loaded once.
struct Endpoint {
  std::string server;  // HOST:PORT
  ClientCredentials credentials;
};

// Channel `n` to `endpoint`, secured as it says (every call carries its
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
  return CreateChannel(endpoint.server, endpoint.credentials, std::move(args));
}

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_CHANNEL_H_
