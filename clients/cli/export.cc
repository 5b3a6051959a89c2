#include "clients/cli/export.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/audit/signer.h"
#include "services/model/occurred_interval.h"
#include "services/model/projection.h"
#include "storage/hash_chain.h"
#include "storage/merkle.h"

namespace annals {
namespace {

// Pages of ReadStored while exporting.
constexpr uint32_t kPage = 1000;

absl::Status WriteRecord(const v1::ExportRecord& record, std::ostream& out) {
  std::string line;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  auto status = google::protobuf::util::MessageToJsonString(record, &line, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot write JSON: ", status.ToString()));
  }
  out << line << '\n';
  if (!out) return absl::UnavailableError("cannot write the export");
  return absl::OkStatus();
}

absl::Status Bad(absl::string_view what) { return absl::DataLossError(what); }

}  // namespace

absl::StatusOr<uint64_t> WriteExport(Client& client, std::ostream& out) {
  absl::StatusOr<v1::GetPublicKeyResponse> key = client.GetPublicKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<v1::SignedTreeHead> head = client.GetTreeHead();
  if (!head.ok()) return head.status();

  v1::ExportRecord record;
  v1::ExportHeader* header = record.mutable_header();
  header->set_format(kExportFormat);
  header->set_public_key_pem(key->public_key_pem());
  header->set_key_id(key->key_id());
  if (absl::Status s = WriteRecord(record, out); !s.ok()) return s;

  const uint64_t size = head->tree_size();
  uint64_t next = 1;
  while (next <= size) {
    const uint32_t count =
        static_cast<uint32_t>(std::min<uint64_t>(kPage, size - next + 1));
    absl::StatusOr<v1::ReadStoredResponse> page = client.ReadStored(next, count);
    if (!page.ok()) return page.status();
    if (page->events().empty()) {
      return absl::DataLossError(
          absl::StrCat("the server returned no position ", next,
                       " although its tree head has ", size));
    }
    for (v1::StoredEvent& event : *page->mutable_events()) {
      if (event.position() != next) {
        return absl::DataLossError(absl::StrCat(
            "the server returned position ", event.position(), " for ", next));
      }
      record.Clear();
      record.mutable_event()->Swap(&event);
      if (absl::Status s = WriteRecord(record, out); !s.ok()) return s;
      if (++next > size) break;
    }
  }
  record.Clear();
  *record.mutable_tree_head() = *head;
  if (absl::Status s = WriteRecord(record, out); !s.ok()) return s;
  out.flush();
  if (!out) return absl::UnavailableError("cannot write the export");
  return size;
}

absl::StatusOr<VerifiedExport> ReadVerifiedExport(
    std::istream& in, const std::string& public_key_pem) {
  absl::StatusOr<std::string> key_id = services::KeyIdOfPublicKey(public_key_pem);
  if (!key_id.ok()) return key_id.status();

  VerifiedExport result;
  bool have_header = false;
  bool have_head = false;
  std::string chain = storage::ZeroHash();
  storage::merkle::Frontier frontier;
  std::string line;
  uint64_t line_number = 0;
  google::protobuf::util::JsonParseOptions options;
  while (std::getline(in, line)) {
    ++line_number;
    const bool ended = in.eof();  // the last line had no newline
    if (line.empty()) continue;
    const uint64_t position = result.events.size() + 1;
    if (have_head) {
      return Bad(absl::StrCat("line ", line_number,
                              ": data after the signed tree head"));
    }
    v1::ExportRecord record;
    if (ended ||
        !google::protobuf::util::JsonStringToMessage(line, &record, options).ok()) {
      if (ended) {
        return Bad(absl::StrCat(
            "truncated: the file ends in the middle of line ", line_number,
            " (after position ", position - 1, ")"));
      }
      return Bad(absl::StrCat(have_header ? absl::StrCat("position ", position, ": ")
                                          : "",
                              "line ", line_number,
                              " is not an ExportRecord in JSON"));
    }
    switch (record.record_case()) {
      case v1::ExportRecord::kHeader:
        if (have_header) return Bad(absl::StrCat("line ", line_number, ": a second header"));
        if (record.header().format() != kExportFormat) {
          return Bad(absl::StrCat("header: format \"", record.header().format(),
                                  "\" is not ", kExportFormat));
        }
        if (record.header().key_id() != *key_id) {
          return Bad("header: the export was signed by another key than the "
                     "given public key (key ids differ)");
        }
        result.header = std::move(*record.mutable_header());
        have_header = true;
        break;
      case v1::ExportRecord::kEvent: {
        if (!have_header) return Bad("the export does not start with a header");
        const v1::StoredEvent& stored = record.event();
        if (stored.position() != position) {
          return Bad(absl::StrCat("position ", position, ": missing (found ",
                                  stored.position(), " in its place)"));
        }
        const std::string recomputed = storage::ChainHash(chain, stored.stored());
        if (recomputed != stored.chain_hash()) {
          return Bad(absl::StrCat(
              "position ", position,
              ": chain hash does not match SHA-256(chain hash of position ",
              position - 1, " || its stored bytes)"));
        }
        v1::RecordedEvent event;
        if (!event.ParseFromString(stored.stored()) || event.position() != position) {
          return Bad(absl::StrCat("position ", position,
                                  ": stored bytes are not its RecordedEvent"));
        }
        event.set_hash(recomputed);
        chain = recomputed;
        storage::merkle::Append(&frontier, storage::merkle::LeafHash(stored.stored()),
                                [](const storage::merkle::CompletedNode&) {});
        result.events.push_back(std::move(event));
        break;
      }
      case v1::ExportRecord::kTreeHead:
        if (!have_header) return Bad("the export does not start with a header");
        result.tree_head = std::move(*record.mutable_tree_head());
        have_head = true;
        break;
      default:
        return Bad(absl::StrCat("line ", line_number, ": an empty record"));
    }
  }
  if (in.bad()) return absl::UnavailableError("cannot read the export");
  if (!have_header) return Bad("truncated: the export has no header");
  if (!have_head) {
    return Bad(absl::StrCat("truncated: no signed tree head at the end (last "
                            "position read: ", result.events.size(), ")"));
  }
  const v1::SignedTreeHead& head = result.tree_head;
  if (head.tree_size() != result.events.size()) {
    return Bad(absl::StrCat(
        "tree head: signed for ", head.tree_size(), " positions but the export has ",
        result.events.size(),
        head.tree_size() > result.events.size()
            ? absl::StrCat("; position ", result.events.size() + 1, " is missing")
            : ""));
  }
  if (storage::merkle::RootOf(frontier) != head.root_hash()) {
    return Bad(absl::StrCat("tree head: the Merkle root of the ",
                            result.events.size(),
                            " stored records is not the signed root ",
                            absl::BytesToHexString(head.root_hash())));
  }
  if (absl::Status s = services::VerifyTreeHead(head, public_key_pem); !s.ok()) {
    return Bad(absl::StrCat("tree head: ", s.message()));
  }
  return result;
}

absl::StatusOr<std::vector<v1::RelationshipState>> Replay(
    const std::vector<v1::RecordedEvent>& events, const ReplayPoint& point) {
  size_t count = events.size();
  if (point.to_position.has_value()) {
    if (*point.to_position == 0 || *point.to_position > events.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--to-position: must be 1 ... ", events.size(), ", got ",
          *point.to_position));
    }
    count = *point.to_position;
  }
  const std::vector<v1::RecordedEvent> replayed(events.begin(),
                                                events.begin() + count);
  std::vector<v1::Event> effective = services::EffectiveEvents(replayed);
  if (point.to_date.has_value()) {
    // As the server's as_of_date: the events certain by the end of the
    // date (services/model/occurred_interval.h).
    const services::DayKey high = services::LastDayOf(*point.to_date);
    effective.erase(std::remove_if(effective.begin(), effective.end(),
                                   [high](const v1::Event& event) {
                                     return services::IntervalOf(
                                                event.occurred())
                                                .last > high;
                                   }),
                    effective.end());
  }
  std::set<std::string> dyads;
  for (const v1::Event& event : effective) {
    for (std::string& dyad : services::DyadsOf(event)) dyads.insert(std::move(dyad));
  }
  std::vector<v1::RelationshipState> states;
  states.reserve(dyads.size());
  for (const std::string& dyad : dyads) {
    states.push_back(services::BuildState(dyad, effective));
  }
  return states;
}

}  // namespace annals
