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
  bytes_ = 0;
}

Admission::Admission(const AdmissionOptions& options) : options_(options) {}

absl::StatusOr<Admission::Ticket> Admission::OpenStream(
    absl::string_view connection) {
  const size_t limit = options_.max_streams_per_connection;
  {
    absl::MutexLock lock(&mu_);
    size_t& open = streams_[connection];
    if (limit == 0 || open < limit) {
      ++open;
      Ticket ticket;
      ticket.admission_ = this;
      ticket.stream_ = true;
      ticket.connection_ = std::string(connection);
      return ticket;
    }
  }
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

absl::StatusOr<Admission::Ticket> Admission::AdmitRequest(size_t bytes) {
  const size_t limit = options_.request_bytes_in_flight;
  size_t in_flight = 0;
  {
    absl::MutexLock lock(&mu_);
    in_flight = bytes_;
    if (limit == 0 || bytes_ == 0 || bytes_ + bytes <= limit) {
      bytes_ += bytes;
      Ticket ticket;
      ticket.admission_ = this;
      ticket.bytes_ = bytes;
      return ticket;
    }
  }
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

void Admission::Give(const Ticket& ticket) {
  absl::MutexLock lock(&mu_);
  bytes_ -= ticket.bytes_;
  if (!ticket.stream_) return;
  auto it = streams_.find(ticket.connection_);
  if (it != streams_.end() && --it->second == 0) streams_.erase(it);
}

}  // namespace annals::services
