#include "clients/bench/sse_stream.h"

namespace annals::bench {
namespace {

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

void SseParser::Feed(absl::string_view bytes,
                     absl::FunctionRef<void(const SseEvent&)> visit) {
  if (!started_) {
    // The byte-order mark may itself come in pieces: keep what matches of
    // it in partial_ until it is whole or something else shows.
    while (!bytes.empty() && partial_.size() < kByteOrderMark.size() &&
           bytes.front() == kByteOrderMark[partial_.size()]) {
      partial_.push_back(bytes.front());
      bytes.remove_prefix(1);
    }
    if (partial_.size() == kByteOrderMark.size()) {
      partial_.clear();
      started_ = true;
    } else if (!bytes.empty()) {
      started_ = true;  // no mark: what was kept is the stream's start
    } else {
      return;
    }
  }
  if (skip_lf_ && !bytes.empty()) {
    if (bytes.front() == '\n') bytes.remove_prefix(1);
    skip_lf_ = false;
  }
  while (!bytes.empty()) {
    const size_t end = bytes.find_first_of("\r\n");
    if (end == absl::string_view::npos) {
      partial_.append(bytes.data(), bytes.size());
      return;
    }
    if (partial_.empty()) {
      Line(bytes.substr(0, end), visit);
    } else {
      partial_.append(bytes.data(), end);
      Line(partial_, visit);
      partial_.clear();
    }
    size_t next = end + 1;
    if (bytes[end] == '\r') {
      if (next < bytes.size()) {
        if (bytes[next] == '\n') ++next;
      } else {
        skip_lf_ = true;  // a CRLF may be cut between two pieces
      }
    }
    bytes.remove_prefix(next);
  }
}

void SseParser::Line(absl::string_view line,
                     absl::FunctionRef<void(const SseEvent&)> visit) {
  if (line.empty()) {
    if (!data_.empty()) {
      SseEvent event;
      event.type = type_.empty() ? absl::string_view("message") : type_;
      event.id = last_id_;
      event.data = absl::string_view(data_).substr(0, data_.size() - 1);
      visit(event);
    }
    type_.clear();
    data_.clear();
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  absl::string_view field = line;
  absl::string_view value;
  if (const size_t colon = line.find(':'); colon != absl::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value.data(), value.size());
    data_.push_back('\n');
  } else if (field == "event") {
    type_.assign(value.data(), value.size());
  } else if (field == "id") {
    if (value.find('\0') == absl::string_view::npos) {
      last_id_.assign(value.data(), value.size());
    }
  }
  // "retry" and anything else: ignored.
}

}  // namespace annals::bench
