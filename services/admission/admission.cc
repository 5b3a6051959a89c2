#include "services/admission/admission.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/rpc_status.h"

namespace annals::services {
namespace {

// "52.3 MiB", or "40 KiB" below one MiB.
std::string Size(size_t bytes) {
  if (bytes < (1 << 20)) return absl::StrCat((bytes + 1023) / 1024, " KiB");
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

absl::Status MomentaryRefusal(
    absl::string_view message, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  return rpc::WithRetryDelay(
      rpc::WithErrorInfo(absl::StatusCode::kResourceExhausted, message, reason,
                         metadata),
      kRetryDelay);
}

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    admission_ = std::exchange(other.admission_, nullptr);
    stream_ = std::exchange(other.stream_, false);
    connection_ = std::move(other.connection_);
    principal_ = std::move(other.principal_);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void Admission::Ticket::Release() {
  if (admission_ == nullptr) return;
  admission_->Give(*this);
  admission_ = nullptr;
  stream_ = false;
  connection_.clear();
  principal_.clear();
  bytes_ = 0;
}

Admission::Admission(const AdmissionOptions& options) : options_(options) {}

absl::StatusOr<Admission::Ticket> Admission::OpenStream(
    absl::string_view connection, absl::string_view principal) {
  const size_t limit = options_.max_streams_per_connection;
  const size_t principal_limit = options_.max_streams_per_principal;
  bool connection_full = false;
  {
    absl::MutexLock lock(&mu_);
    auto open = streams_.find(connection);
    auto principal_open = principal_streams_.find(principal);
    connection_full =
        limit != 0 && open != streams_.end() && open->second >= limit;
    const bool principal_full = principal_limit != 0 &&
                                principal_open != principal_streams_.end() &&
                                principal_open->second >= principal_limit;
    if (!connection_full && !principal_full) {
      ++streams_[connection];
      ++principal_streams_[principal];
      Ticket ticket;
      ticket.admission_ = this;
      ticket.stream_ = true;
      ticket.connection_ = std::string(connection);
      ticket.principal_ = std::string(principal);
      return ticket;
    }
  }
  if (connection_full) {
    return MomentaryRefusal(
        absl::StrCat("this connection has ", limit,
                     " streams open (Subscribe, WatchRelationship, "
                     "AppendSession), the most one connection may have "
                     "(annalsd --max_streams_per_connection); end one, or "
                     "retry later"),
        "TOO_MANY_STREAMS",
        {{"limit", absl::StrCat(limit)},
         {"flag", "max_streams_per_connection"}});
  }
  return MomentaryRefusal(
      absl::StrCat(principal, " has ", principal_limit,
                   " streams open (Subscribe, WatchRelationship, "
                   "AppendSession) over all its connections, the most one "
                   "principal may have (annalsd --max_streams_per_principal); "
                   "end one, or retry later"),
      "TOO_MANY_STREAMS",
      {{"limit", absl::StrCat(principal_limit)},
       {"flag", "max_streams_per_principal"}});
}

absl::StatusOr<Admission::Ticket> Admission::AdmitRequest(
    absl::string_view principal, size_t bytes) {
  const size_t limit = options_.request_bytes_in_flight;
  const size_t principal_limit = options_.request_bytes_in_flight_per_principal;
  size_t in_flight = 0;
  size_t principal_in_flight = 0;
  bool fits = false;
  {
    absl::MutexLock lock(&mu_);
    in_flight = bytes_;
    auto mine = principal_bytes_.find(principal);
    principal_in_flight = mine == principal_bytes_.end() ? 0 : mine->second;
    fits = limit == 0 || bytes_ == 0 || bytes_ + bytes <= limit;
    const bool principal_fits = principal_limit == 0 ||
                                principal_in_flight == 0 ||
                                principal_in_flight + bytes <= principal_limit;
    if (fits && principal_fits) {
      bytes_ += bytes;
      principal_bytes_[principal] += bytes;
      Ticket ticket;
      ticket.admission_ = this;
      ticket.bytes_ = bytes;
      ticket.principal_ = std::string(principal);
      return ticket;
    }
  }
  if (!fits) {
    return MomentaryRefusal(
        absl::StrCat("the server holds ", Size(in_flight),
                     " of append requests not yet durable; this one (",
                     Size(bytes), ") would pass the ", Size(limit),
                     " it admits at once (annalsd "
                     "--max_request_mb_in_flight): retry later"),
        "REQUEST_BYTES_IN_FLIGHT",
        {{"limit_bytes", absl::StrCat(limit)},
         {"request_bytes", absl::StrCat(bytes)},
         {"flag", "max_request_mb_in_flight"}});
  }
  return MomentaryRefusal(
      absl::StrCat(principal, " has ", Size(principal_in_flight),
                   " of append requests not yet durable; this one (",
                   Size(bytes), ") would pass the ", Size(principal_limit),
                   " one principal may have at once (annalsd "
                   "--max_request_mb_in_flight_per_principal): retry later"),
      "REQUEST_BYTES_IN_FLIGHT",
      {{"limit_bytes", absl::StrCat(principal_limit)},
       {"request_bytes", absl::StrCat(bytes)},
       {"flag", "max_request_mb_in_flight_per_principal"}});
}

// Takes `amount` off the count of `key`, forgetting the key at zero.
void Admission::Take(absl::flat_hash_map<std::string, size_t>& counts,
                     const std::string& key, size_t amount) {
  auto it = counts.find(key);
  if (it == counts.end()) return;
  it->second -= amount;
  if (it->second == 0) counts.erase(it);
}

void Admission::Give(const Ticket& ticket) {
  absl::MutexLock lock(&mu_);
  if (ticket.bytes_ > 0) {
    bytes_ -= ticket.bytes_;
    Take(principal_bytes_, ticket.principal_, ticket.bytes_);
  }
  if (!ticket.stream_) return;
  Take(streams_, ticket.connection_, 1);
  Take(principal_streams_, ticket.principal_, 1);
}

}  // namespace annals::services
