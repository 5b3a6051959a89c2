// What annals-bench's query scenarios ask of a log: its dyads, and the
// GetRelationship requests of get-relationship (gRPC) and
// http-get-relationship (HTTP), drawn the same way for both, so that with
// the same seeds both ask for the same dyads and as-of points in the same
// order.
#ifndef ANNALS_CLIENTS_BENCH_RELATIONSHIP_ASKS_H_
#define ANNALS_CLIENTS_BENCH_RELATIONSHIP_ASKS_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "annals/v1/query.pb.h"
#include "clients/cpp/client.h"

namespace annals::bench {

// The dyads the log has relationships for (every page of
// ListRelationships). FAILED_PRECONDITION saying to generate a log when
// there are none.
absl::StatusOr<std::vector<std::string>> ListDyads(Client& client);

// A uniformly drawn item of `items` (not empty).
template <typename T>
const T& PickFrom(const std::vector<T>& items, std::mt19937_64& rng) {
  return items[rng() % items.size()];
}

class RelationshipAsks {
 public:
  // Asks for `dyad` every call, or, when it is empty, for a random dyad of
  // the log; `as_of` is none, position, date or mixed (each in turn).
  // Asks `client` once first: for the log's dyads and head (which bounds
  // the as-of positions). INVALID_ARGUMENT naming --as-of; the error of a
  // call that failed (NOT_FOUND for a dyad the log does not have).
  static absl::StatusOr<RelationshipAsks> Prepare(Client& client,
                                                  const std::string& as_of,
                                                  const std::string& dyad);

  // "as_of=none dyads=190", and " dyad=JPN-PRK" for a fixed dyad: what the
  // scenarios print after their name.
  std::string Variant() const;

  // The request of call `i`, drawn with `rng`.
  v1::GetRelationshipRequest Make(std::mt19937_64& rng, uint64_t i) const;

  // `request` as the gateway's route (proto/annals/v1/query.proto):
  // "/v1/relationships/JPN-PRK", "...?asOfPosition=7",
  // "...?asOfDate=2019-03-12".
  static std::string HttpPath(const v1::GetRelationshipRequest& request);

 private:
  std::vector<std::string> dyads_;
  std::string as_of_;
  bool fixed_ = false;  // one dyad, given
  uint64_t log_head_ = 1;
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_RELATIONSHIP_ASKS_H_
