// The channel every annals-bench scenario connects with.
#ifndef ANNALS_CLIENTS_BENCH_CHANNEL_H_
#define ANNALS_CLIENTS_BENCH_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace annals::bench {

// Channel `n` to `server`: channels with distinct `n` are distinct
// connections, so that benchmark clients do not share one HTTP/2
// connection. Messages up to 64 MiB.
//
// `stream_window` > 0: each stream's HTTP/2 receive window is that many
// bytes, fixed (no BDP probing, which grows it to megabytes). A live
// subscriber wants that: annalsd writes a subscription's next message when
// the last one is taken by the transport, so a small window makes the
// events that arrive meanwhile wait in annalsd and leave together in one
// message, instead of queueing in the connection one message each.
inline std::shared_ptr<grpc::Channel> BenchChannel(const std::string& server,
                                                   int n,
                                                   int stream_window = 0) {
  grpc::ChannelArguments args;
  args.SetInt("annals.bench.channel", n);
  args.SetMaxReceiveMessageSize(64 << 20);
  if (stream_window > 0) {
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, stream_window);
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_CHANNEL_H_
