// Projections kept in the log's own database, updated by the writer in the
// same WriteBatch as the events they derive from: a projection is never
// behind the log, and a reader never sees one without the other.
//
// The log knows nothing of what a projection computes; it offers a
// Projector the group's new events and a ProjectionContext to read and
// write the projection column families (storage/format.h) as of the group.
#ifndef ANNALS_STORAGE_PROJECTOR_H_
#define ANNALS_STORAGE_PROJECTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"

namespace annals::storage {

// The column families a projection may write. Values are in-memory indexes
// only; the persisted names are in storage/format.h.
enum class ProjectionFamily { kDyadTimeline, kRelationships };

// Reads and writes projection state inside one commit group. Every read
// sees the committed state plus what this group has put so far. Used only
// on the writer thread, during Projector::Project.
class ProjectionContext {
 public:
  virtual ~ProjectionContext() = default;

  // The value of `key`, or NOT_FOUND.
  virtual absl::StatusOr<std::string> Get(ProjectionFamily family,
                                          absl::string_view key) = 0;
  virtual absl::Status Put(ProjectionFamily family, absl::string_view key,
                           absl::string_view value) = 0;
  // Removes `key`; removing a missing key is OK.
  virtual absl::Status Delete(ProjectionFamily family,
                              absl::string_view key) = 0;
  // Calls `visit` for every key starting with `prefix`, in key order.
  virtual absl::Status Scan(
      ProjectionFamily family, absl::string_view prefix,
      const std::function<void(absl::string_view key, absl::string_view value)>&
          visit) = 0;
  // Like Scan, in key order (kAscending) or reverse key order
  // (kDescending), stopping as soon as `visit` returns false: reads only
  // as many keys as it visits, however many the prefix holds.
  enum class Order { kAscending, kDescending };
  virtual absl::Status ScanUntil(
      ProjectionFamily family, absl::string_view prefix, Order order,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) = 0;
  // The event at `position`, committed or staged in this group.
  virtual absl::StatusOr<v1::RecordedEvent> EventAt(uint64_t position) = 0;
  // The position of the event with `id`, committed or staged in this group;
  // NOT_FOUND when there is none.
  virtual absl::StatusOr<uint64_t> PositionOf(absl::string_view id) = 0;
};

class Projector {
 public:
  virtual ~Projector() = default;

  // Names what the projector computes and how it lays out its keys, e.g.
  // "relationships/1". Stored in meta when the projections are complete;
  // when a log opens with a projector of another version (or projections
  // left incomplete), it rebuilds them from the log before serving. Change
  // it whenever the projection's output changes for the same events.
  virtual std::string Version() const = 0;

  // Updates the projections for `events`: the events of one commit group,
  // in position order, already assigned their envelopes. An error fails the
  // whole group (nothing is written; its appends get INTERNAL), so it must
  // be reserved for broken invariants, never for an event's content. Called
  // on the writer thread, and also, at the same time, on the thread of a
  // check of the projections (EventLog::RebuildProjections without repair)
  // with a context of its own: it must be safe for that.
  virtual absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                               ProjectionContext* context) = 0;

  // Around EventLog::RebuildProjections, which may rewrite stored
  // projections without Project: called on the writer thread before it
  // starts, and after it has ended and readers see what it left. For a
  // projector that keeps something derived from the stored projections.
  virtual void RebuildStarting() {}
  virtual void RebuildEnded() {}
};

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_PROJECTOR_H_
