// Writes the seed corpus of every fuzz target into corpus/<target>/:
//
//   build-fuzz/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
//
// Seeds are valid inputs of each kind, made from the seed timeline
// (deploy/seed/timeline.jsonl) and the example events (clients/examples):
// events in binary and JSON, requests of every method fuzzed, page tokens
// the queries issued, subscription messages and a small signed export.
// Files are named for what they hold; running it again gives the same
// files but for the export's key and signature.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "annals/v1/audit.pb.h"
#include "annals/v1/query.pb.h"
#include "annals/v1/subscription.pb.h"
#include "clients/cli/export.h"
#include "google/protobuf/util/json_util.h"
#include "services/audit/signer.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/seeded_log.h"

namespace annals::fuzz {
namespace {

namespace fs = std::filesystem;

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void Put(const std::string& target, const std::string& name,
           const std::string& bytes) {
    fs::create_directories(root_ / target);
    std::ofstream out(root_ / target / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    Require(out.good(), "a corpus file is written");
  }
  void Put(const std::string& target, const std::string& name,
           const google::protobuf::MessageLite& message) {
    Put(target, name, message.SerializeAsString());
  }

 private:
  fs::path root_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  Require(google::protobuf::util::MessageToJsonString(message, &json).ok(),
          "a message prints as JSON");
  return json;
}

// Events one by one (a few: the corpus stays small), and the files whole.
void PutEvents(Corpus& corpus) {
  const std::vector<v1::RecordedEvent>& seed = SeedEvents();
  for (size_t i = 0; i < seed.size(); i += 4) {
    const std::string name = absl::StrCat("seed-", i + 1);
    corpus.Put("event_binary", name, seed[i].event());
    corpus.Put("event_json", name, Json(seed[i].event()));
  }
  const fs::path examples = fs::path(EXAMPLES_DIR);
  for (const char* file : {"events.jsonl", "secret_talks_2001_2002.json"}) {
    corpus.Put("parse_events", file, ReadFile(examples / file));
  }
  corpus.Put("event_json", "secret_talks_2001_2002.json",
             ReadFile(examples / "secret_talks_2001_2002.json"));
  std::string head;  // the seed's first lines: the whole file is large
  std::istringstream lines(ReadFile(SEED_FILE));
  for (std::string line; head.size() < 8000 && std::getline(lines, line);) {
    head += line + "\n";
  }
  corpus.Put("parse_events", "timeline-head.jsonl", head);
}

void PutAppends(Corpus& corpus) {
  const std::vector<v1::RecordedEvent>& seed = SeedEvents();
  for (size_t i = 0; i < 4; ++i) {
    v1::AppendRequest request;
    *request.add_events() = seed[i * 7].event();
    switch (i) {
      case 0: break;  // the stream derived, any version
      case 1: request.mutable_no_stream(); break;
      case 2: request.set_stream("JPN-PRK"); request.mutable_stream_exists(); break;
      case 3: request.set_stream("archive:2002"); request.set_exact(3); break;
    }
    corpus.Put("append_request", absl::StrCat("append-", i), request);
    v1::AppendSessionRequest session;
    session.set_correlation_id(100 + i);
    *session.mutable_append() = request;
    corpus.Put("append_session_request", absl::StrCat("session-", i), session);
  }
  v1::AppendRequest batch;
  for (size_t i = 0; i < 5; ++i) *batch.add_events() = seed[i].event();
  corpus.Put("append_request", "batch-5", batch);
  v1::AppendSessionRequest empty;
  empty.set_correlation_id(7);
  corpus.Put("append_session_request", "no-append", empty);
}

void PutSubscribes(Corpus& corpus) {
  std::vector<v1::SubscribeRequest> requests(6);
  requests[0].mutable_from_start();
  requests[1].set_from_position(5);
  requests[1].mutable_filter()->set_dyad("PRK-JPN");
  requests[2].mutable_from_now();
  requests[2].mutable_filter()->set_actor("USA");
  requests[2].mutable_filter()->add_kinds("meeting");
  requests[2].mutable_filter()->add_kinds("correction");
  requests[3].mutable_filter()->add_tags("abductions");
  requests[3].set_max_events_per_message(100);
  requests[4].mutable_filter()->set_stream("JPN-PRK");
  requests[5].set_from_position(1);
  requests[5].mutable_filter()->set_dyad("USA-PRK");
  requests[5].mutable_filter()->add_kinds("resolution");
  for (size_t i = 0; i < requests.size(); ++i) {
    corpus.Put("subscribe_request", absl::StrCat("subscribe-", i), requests[i]);
  }
}

void PutGetRelationships(Corpus& corpus) {
  std::vector<v1::GetRelationshipRequest> requests(5);
  requests[0].set_dyad("JPN-PRK");
  requests[1].set_dyad("PRK-USA");
  requests[1].set_as_of_position(40);
  requests[2].set_dyad("PRK-JPN");
  requests[2].mutable_as_of_date()->set_year(2018);
  requests[3].set_dyad("PRK-USA");
  requests[3].mutable_as_of_date()->set_year(2019);
  requests[3].mutable_as_of_date()->set_month(2);
  requests[3].mutable_as_of_date()->set_day(28);
  requests[4].set_dyad("JPN-UNHRC");
  for (size_t i = 0; i < requests.size(); ++i) {
    corpus.Put("get_relationship", absl::StrCat("get-", i), requests[i]);
  }
}

// Each request, and the request of its next page with the token issued.
template <typename Request, typename Response>
void PutPaged(Corpus& corpus, const std::string& target,
              const std::vector<Request>& requests,
              absl::StatusOr<Response> (services::RelationshipQueries::*query)(
                  const Request&) const) {
  for (size_t i = 0; i < requests.size(); ++i) {
    corpus.Put(target, absl::StrCat("page1-", i), requests[i]);
    absl::StatusOr<Response> page = (SeededQueries().*query)(requests[i]);
    RequireOk(page.status(), "a corpus query is answered");
    if (page->next_page_token().empty()) continue;
    Request next = requests[i];
    next.set_page_token(page->next_page_token());
    corpus.Put(target, absl::StrCat("page2-", i), next);
    corpus.Put("page_token", absl::StrCat(target, "-", i),
               page->next_page_token());
  }
}

void PutQueries(Corpus& corpus) {
  std::vector<v1::QueryTimelineRequest> timelines(5);
  timelines[0].set_page_size(5);
  timelines[1].set_dyad("PRK-JPN");
  timelines[1].set_page_size(3);
  timelines[1].set_descending(true);
  timelines[2].set_actor("USA");
  timelines[2].add_kinds("meeting");
  timelines[2].add_kinds("statement");
  timelines[2].set_page_size(2);
  timelines[3].add_tags("abductions");
  timelines[3].mutable_from()->set_year(2002);
  timelines[3].mutable_to()->set_year(2019);
  timelines[3].mutable_to()->set_month(6);
  timelines[3].set_page_size(2);
  timelines[4].set_text("summit");
  timelines[4].set_page_size(1);
  PutPaged(corpus, "query_timeline", timelines,
           &services::RelationshipQueries::QueryTimeline);

  std::vector<v1::ListRelationshipsRequest> lists(3);
  lists[0].set_page_size(2);
  lists[1].set_order_by(v1::ListRelationshipsRequest::ORDER_BY_INDEX);
  lists[1].set_ascending(true);
  lists[1].set_page_size(3);
  lists[2].set_actor("PRK");
  lists[2].set_page_size(1);
  PutPaged(corpus, "list_relationships", lists,
           &services::RelationshipQueries::ListRelationships);
}

// Subscription messages as the server writes them; the first byte is
// where bench_wire cuts them in two.
void PutSubscriptionMessages(Corpus& corpus) {
  const std::vector<v1::RecordedEvent>& seed = SeedEvents();
  std::vector<v1::SubscribeResponse> messages(5);
  *messages[0].mutable_event() = seed[0];
  for (size_t i = 1; i < 4; ++i) *messages[1].mutable_events()->add_events() = seed[i];
  messages[2].mutable_caught_up()->set_position(seed.size());
  messages[3].mutable_checkpoint()->set_position(1000);
  messages[4].mutable_fell_behind()->set_position(3);
  messages[4].mutable_fell_behind()->set_head(9000);
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string bytes = messages[i].SerializeAsString();
    corpus.Put("bench_wire", absl::StrCat("message-", i),
               absl::StrCat(std::string(1, static_cast<char>(bytes.size() / 2)),
                            bytes));
  }
  // subscription_wire: the hash's length, the hash, the stored bytes.
  absl::StatusOr<std::vector<storage::StoredEvent>> stored =
      SeededLog().ReadStored(1, 3);
  RequireOk(stored.status(), "the seeded log reads as stored");
  for (const storage::StoredEvent& event : *stored) {
    corpus.Put("subscription_wire", absl::StrCat("stored-", event.position),
               absl::StrCat(std::string(1, 32), event.chain_hash, event.stored));
  }
}

std::string ExportRecordLine(const v1::ExportRecord& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  std::string line;
  Require(google::protobuf::util::MessageToJsonString(record, &line, options).ok(),
          "an export record prints");
  return line + "\n";
}

// An export of the log's first `size` positions, signed by a new key.
void PutExport(Corpus& corpus, uint64_t size) {
  const storage::EventLog& log = SeededLog();
  absl::StatusOr<std::unique_ptr<services::TreeHeadSigner>> signer =
      services::TreeHeadSigner::Generate();
  RequireOk(signer.status(), "a key is generated");
  v1::ExportRecord record;
  record.mutable_header()->set_format(kExportFormat);
  record.mutable_header()->set_public_key_pem((*signer)->public_key_pem());
  record.mutable_header()->set_key_id((*signer)->key_id());
  std::string text = ExportRecordLine(record);
  absl::StatusOr<std::vector<storage::StoredEvent>> stored = log.ReadStored(1, size);
  RequireOk(stored.status(), "the seeded log reads as stored");
  for (const storage::StoredEvent& event : *stored) {
    record.Clear();
    record.mutable_event()->set_position(event.position);
    record.mutable_event()->set_chain_hash(event.chain_hash);
    record.mutable_event()->set_stored(event.stored);
    text += ExportRecordLine(record);
  }
  absl::StatusOr<std::string> root = log.RootAt(size);
  RequireOk(root.status(), "the seeded log has a root");
  absl::StatusOr<v1::SignedTreeHead> head =
      (*signer)->Sign(size, *root, absl::ToUnixMicros(absl::Now()));
  RequireOk(head.status(), "the tree head is signed");
  record.Clear();
  *record.mutable_tree_head() = *head;
  text += ExportRecordLine(record);
  corpus.Put("export_reader", absl::StrCat("export-", size), text);
}

}  // namespace
}  // namespace annals::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  annals::fuzz::Corpus corpus{std::filesystem::path(argv[1])};
  annals::fuzz::PutEvents(corpus);
  annals::fuzz::PutAppends(corpus);
  annals::fuzz::PutSubscribes(corpus);
  annals::fuzz::PutGetRelationships(corpus);
  annals::fuzz::PutQueries(corpus);
  annals::fuzz::PutSubscriptionMessages(corpus);
  annals::fuzz::PutExport(corpus, 1);
  annals::fuzz::PutExport(corpus, 6);
  return 0;
}
