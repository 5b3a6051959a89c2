// What the HTTP front reports as it works, for whoever measures it
// (metrics::ServerMetrics): each response's status and the event streams
// open. Calls come from the HTTP threads, concurrently; implementations
// must be thread-safe and quick.
#ifndef ANNALS_SERVICES_HTTP_HTTP_OBSERVER_H_
#define ANNALS_SERVICES_HTTP_HTTP_OBSERVER_H_

namespace annals::http {

class HttpObserver {
 public:
  virtual ~HttpObserver() = default;
  // A response of `status` (an event stream: 200 when it starts) began.
  virtual void Responded(int status) = 0;
  // An event stream opened, or ended (after it was opened).
  virtual void StreamOpened() = 0;
  virtual void StreamClosed() = 0;
};

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_HTTP_OBSERVER_H_
