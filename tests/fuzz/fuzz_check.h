// What every fuzz target shares: stopping loudly when a property does not
// hold (libFuzzer then keeps the input), and requests as the server
// receives them.
#ifndef ANNALS_TESTS_FUZZ_FUZZ_CHECK_H_
#define ANNALS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

namespace annals::fuzz {

// Protobuf logs every string field with bad UTF-8 it parses: most of a
// run's output, and time, without this.
inline const bool kProtobufLogsSilenced =
    (google::protobuf::SetLogHandler(nullptr), true);

// Aborts, naming `what`, unless `holds`.
inline void Require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}

// Aborts, naming `what` and the status, unless `status` is OK.
inline void RequireOk(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "fuzz property failed: %s: %s\n", what,
               status.ToString().c_str());
  std::abort();
}

// Requests are answered or refused as invalid; any other error on a
// healthy log is a defect (INTERNAL, DATA_LOSS, ...).
inline void RequireValidOrInvalidArgument(const absl::Status& status) {
  if (status.ok() || absl::IsInvalidArgument(status)) return;
  std::fprintf(stderr, "unexpected status: %s\n", status.ToString().c_str());
  std::abort();
}

// `data` as gRPC hands a raw request to a handler.
inline grpc::ByteBuffer Buffer(const uint8_t* data, size_t size) {
  grpc::Slice slice(data, size);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace annals::fuzz

#endif  // ANNALS_TESTS_FUZZ_FUZZ_CHECK_H_
