// The annals.v1.Subscriptions gRPC service: Subscribe and WatchRelationship
// as callback-API server-streaming reactors over the SubscriptionHub.
//
// One reactor per call, one write in flight, no thread per call:
//   - A Subscribe call keeps `next`, the next position it will consider.
//     Everything before it has been written or left out by the filter. It
//     takes positions from `next` on from wherever they are — the hub's
//     live window while `next` is in it, else storage, one page at a time
//     on the hub's executor — so the switch between catch-up and live
//     delivery can neither skip nor repeat a position.
//   - At the head it says CaughtUp once and waits for the next commit
//     (the hub wakes it on its executor). When the window has moved past
//     `next` it says FellBehind and reads storage again.
//   - It holds at most about 1.5 read pages of events, shared with the
//     window; a slow client therefore costs one page, never the writer.
//   - Events go out as the bytes the hub serialized once (or as stored,
//     when catching up), never parsed and serialized again per call
//     (services/subscriptions/wire.h); a call that asked for batches gets
//     what is pending in one EventBatch message per write.
//   - A WatchRelationship call waits for a commit that touches its dyad
//     (SubscriptionHub::WaitForDyad), re-reads the dyad's state on the
//     executor, and writes it when its bytes changed.
#ifndef ANNALS_SERVICES_SUBSCRIPTIONS_SERVICE_H_
#define ANNALS_SERVICES_SUBSCRIPTIONS_SERVICE_H_

#include "annals/v1/subscription.grpc.pb.h"
#include "services/admission/admission.h"
#include "services/auth/call_access.h"
#include "services/subscriptions/hub.h"

namespace annals::services {

// Both methods are served raw: their requests are parsed through
// services/rpc (INVALID_ARGUMENT for bytes that are not the request
// message). Subscribe's events are the log's stored bytes, written once
// into the buffer gRPC sends (services/subscriptions/wire.h) instead of
// into a message that gRPC serializes again, a second copy held while the
// write is in flight.
class SubscriptionService final
    : public v1::Subscriptions::WithRawCallbackMethod_Subscribe<
          v1::Subscriptions::WithRawCallbackMethod_WatchRelationship<
              v1::Subscriptions::Service>> {
 public:
  // `hub` must be attached to the log and outlive the service's calls
  // (see SubscriptionHub for the order of shutdown); so must `access`,
  // which checks every call first, and `admission`, of which every call is
  // a stream of its connection and its principal. Thread-safe.
  SubscriptionService(SubscriptionHub* hub, const auth::CallAccess* access,
                      Admission* admission);

  // Writes serialized annals.v1.SubscribeResponse messages; `request` is a
  // serialized annals.v1.SubscribeRequest.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

  // Writes serialized annals.v1.WatchRelationshipResponse messages;
  // `request` is a serialized annals.v1.WatchRelationshipRequest.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchRelationship(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

 private:
  // Constant after construction.
  SubscriptionHub* const hub_;
  const auth::CallAccess* const access_;
  Admission* const admission_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SUBSCRIPTIONS_SERVICE_H_
