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
inline std::shared_ptr<grpc::Channel> BenchChannel(const std::string& server,
                                                   int n) {
  grpc::ChannelArguments args;
  args.SetInt("annals.bench.channel", n);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_CHANNEL_H_
