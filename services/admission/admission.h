// Admission: what one client may hold of annalsd at once, so that no
// client can take everything.
//
//   - Streams: each connection may have at most max_streams_per_connection
//     Subscribe, WatchRelationship and AppendSession calls open, so one
//     client cannot take every subscription slot (the hub's global
//     max_subscriptions still bounds the total).
//   - Request bytes: append requests (Append calls, AppendSession requests)
//     hold their bytes from the moment they are read until their batch is
//     durable or failed; over all calls at most request_bytes_in_flight
//     of them are admitted, so concurrent large appends cannot take the
//     server's memory.
//
//   - Per principal: the same two limits again for each authenticated
//     caller (services/auth: "token:NAME", "cert:SUBJECT", or without
//     authentication "anonymous@ADDRESS"), so that one caller with many
//     connections cannot take everything either.
//
// A refusal is a MomentaryRefusal (reason TOO_MANY_STREAMS or
// REQUEST_BYTES_IN_FLIGHT): the refused call may be tried again once
// others end.
//
// A connection is named by its peer address ("ipv4:127.0.0.1:54321": the
// port tells connections apart).
#ifndef ANNALS_SERVICES_ADMISSION_ADMISSION_H_
#define ANNALS_SERVICES_ADMISSION_ADMISSION_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace annals::services {

// The wait a client refused for a limit that frees itself is told to
// allow before it retries.
inline constexpr absl::Duration kRetryDelay = absl::Seconds(1);

// The refusal of a limit that frees itself as calls end (streams, request
// bytes, subscriptions): RESOURCE_EXHAUSTED with `message`, an ErrorInfo
// {`reason`, `metadata`} and a RetryInfo of kRetryDelay.
absl::Status MomentaryRefusal(
    absl::string_view message, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata);

struct AdmissionOptions {
  // Streams one connection may have open at once; more get
  // RESOURCE_EXHAUSTED. 0: no limit. Default 1000: a tenth of the
  // subscriptions the hub accepts by default, and room for a backend that
  // multiplexes its users' subscriptions over one connection.
  size_t max_streams_per_connection = 1000;
  // Bytes of append requests admitted and not yet answered, over every
  // call; a request that would pass it gets RESOURCE_EXHAUSTED. A request
  // is always admitted while nothing else is in flight, so that the
  // largest request the limits accept (64 MB by default) can pass. 0: no
  // limit. Default 64 MiB: hundreds of times what a busy server of small
  // appends holds, one large import at a time.
  size_t request_bytes_in_flight = size_t{64} << 20;
  // Streams one principal may have open at once, over all its
  // connections. 0: no limit. Default 5000: half the subscriptions the hub
  // accepts by default, so that one caller cannot take them all.
  size_t max_streams_per_principal = 5000;
  // Bytes of append requests one principal may have admitted and not yet
  // answered; as request_bytes_in_flight, one request is always admitted
  // while the principal has none in flight. 0: no limit. Default 32 MiB:
  // half the default total.
  size_t request_bytes_in_flight_per_principal = size_t{32} << 20;
};

class Admission {
 public:
  // What one admission holds; given back when it is destroyed (or
  // assigned). Move-only. A default Ticket holds nothing.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket() { Release(); }

   private:
    friend class Admission;
    void Release();

    Admission* admission_ = nullptr;
    bool stream_ = false;
    std::string connection_;  // a stream's
    std::string principal_;
    size_t bytes_ = 0;        // a request's
  };

  explicit Admission(const AdmissionOptions& options);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A stream of `principal` on `connection` (the call's peer) opening:
  // held until the call is done. Thread-safe.
  absl::StatusOr<Ticket> OpenStream(absl::string_view connection,
                                    absl::string_view principal)
      ABSL_LOCKS_EXCLUDED(mu_);
  // An append request of `principal` of `bytes` read: held until it is
  // answered. Thread-safe.
  absl::StatusOr<Ticket> AdmitRequest(absl::string_view principal,
                                      size_t bytes) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Give(const Ticket& ticket) ABSL_LOCKS_EXCLUDED(mu_);
  static void Take(absl::flat_hash_map<std::string, size_t>& counts,
                   const std::string& key, size_t amount);

  const AdmissionOptions options_;
  absl::Mutex mu_;
  // Open streams by connection and by principal; one with none has no
  // entry.
  absl::flat_hash_map<std::string, size_t> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> principal_streams_
      ABSL_GUARDED_BY(mu_);
  // Request bytes in flight, in all and by principal (no entry: none).
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, size_t> principal_bytes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_ADMISSION_ADMISSION_H_
