// Exports of the log and what can be done with them offline: verify (hash
// chain, Merkle root, signed tree head) and replay (relationship states at a
// position or a date, with the server's own projection code).
//
// The file format is documented on annals.v1.ExportRecord
// (proto/annals/v1/audit.proto): JSON Lines, one ExportRecord per line — a
// header, every position 1 ... n exactly as stored, then a tree head of
// size n signed by the server.
#ifndef ANNALS_CLIENTS_CLI_EXPORT_H_
#define ANNALS_CLIENTS_CLI_EXPORT_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "annals/v1/audit.pb.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/relationship.pb.h"
#include "clients/cpp/client.h"

namespace annals {

inline constexpr char kExportFormat[] = "annals-export/1";

// Writes an export of the log `client` serves to `out`: the current signed
// tree head decides how many positions (n) are written. Returns n. Errors
// are the server's, or UNAVAILABLE when `out` fails.
absl::StatusOr<uint64_t> WriteExport(Client& client, std::ostream& out);

// What verifying an export found.
struct VerifiedExport {
  v1::ExportHeader header;
  v1::SignedTreeHead tree_head;
  // Every position, parsed from its stored bytes, `hash` set to its chain
  // hash; events[i] is position i + 1.
  std::vector<v1::RecordedEvent> events;
};

// Reads and verifies an export against `public_key_pem` (the key the
// auditor trusts), without a server: every line parses; the header names
// the format and this key; positions are 1, 2, 3 ... with none missing;
// each stored record's chain hash is SHA-256(previous || stored) and its
// bytes parse as the RecordedEvent of that position; the Merkle root of
// the stored bytes equals the tree head's, whose size is the number of
// positions and whose signature verifies with the key.
//
// DATA_LOSS on the first failure, naming it: "position 17: ..." when a
// position's record is bad or missing, "truncated: ..." when the file ends
// before its tree head (or in the middle of a line), "tree head: ..." when
// the root, size or signature do not match. INVALID_ARGUMENT when the key
// is not an Ed25519 PEM public key.
absl::StatusOr<VerifiedExport> ReadVerifiedExport(std::istream& in,
                                                  const std::string& public_key_pem);

// Up to where a replay goes. Both unset: everything.
struct ReplayPoint {
  // The state as the log knew it at this position (like GetRelationship's
  // as_of_position): only positions 1 ... to_position are replayed.
  std::optional<uint64_t> to_position;
  // The state of the world by this occurred date (like as_of_date): only
  // effective events whose occurred start is within or before it count.
  std::optional<v1::Date> to_date;
};

// The relationship state of every dyad touched by the replayed events,
// sorted by dyad, built with services/model/projection.h exactly as the server
// builds it (EffectiveEvents, then BuildState per dyad). `events` are in
// position order (as VerifiedExport::events). INVALID_ARGUMENT when
// to_position is 0 or beyond the last event.
absl::StatusOr<std::vector<v1::RelationshipState>> Replay(
    const std::vector<v1::RecordedEvent>& events, const ReplayPoint& point);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_EXPORT_H_
