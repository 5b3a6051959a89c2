// The client side of server-sent events (the HTML "text/event-stream"
// format), as annals-bench's sse-fanout subscribers read annalsd's
// `GET /v1/subscribe` streams: bytes in, in whatever pieces the connection
// delivers them, events out.
//
// The format, as the HTML standard's event-stream interpretation gives
// it: lines end with CRLF, LF or CR; an empty line dispatches the event
// gathered so far; a line starting with ':' is a comment; otherwise the
// line is "field: value" (one space after the colon is dropped; a line
// without a colon is a field with an empty value). `event` names the
// event's type (default "message"), `data` lines are joined with '\n',
// `id` sets the last event ID (kept for the events after it; an id holding
// U+0000 is ignored), `retry` and unknown fields are ignored. An event
// without data is not dispatched. A byte-order mark opening the stream is
// skipped.
#ifndef ANNALS_CLIENTS_BENCH_SSE_STREAM_H_
#define ANNALS_CLIENTS_BENCH_SSE_STREAM_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace annals::bench {

// One dispatched event. The views point into the parser and are valid
// until the visit returns.
struct SseEvent {
  absl::string_view type;  // the `event` field, "message" when none
  absl::string_view id;    // the last event ID at dispatch
  absl::string_view data;  // the `data` lines joined with '\n'
};

// Not thread-safe: one per stream.
class SseParser {
 public:
  // Parses the next `bytes` of the stream, calling `visit` for each event
  // it completes (an event's lines may come over several calls).
  void Feed(absl::string_view bytes,
            absl::FunctionRef<void(const SseEvent&)> visit);

  // Comment lines seen so far (annalsd's heartbeats are comments).
  uint64_t comments() const { return comments_; }
  // The last event ID (what a reconnecting client sends as Last-Event-ID).
  const std::string& last_event_id() const { return last_id_; }

 private:
  void Line(absl::string_view line,
            absl::FunctionRef<void(const SseEvent&)> visit);

  std::string partial_;   // a line begun in an earlier Feed
  bool skip_lf_ = false;  // the last Feed ended with CR: drop a leading LF
  bool started_ = false;  // past the optional byte-order mark
  std::string type_;      // of the event being gathered
  std::string data_;
  bool has_data_ = false;
  std::string last_id_;
  uint64_t comments_ = 0;
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_SSE_STREAM_H_
