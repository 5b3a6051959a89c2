// Log entries, subjects and message ids (log_entry.h).
#include "storage/jetstream/log_entry.h"

#include <openssl/sha.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "annals/storage/v1/log_entry.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "storage/event_log.h"

namespace annals::storage::jetstream {
namespace {

using annals::storage::v1::LogEntry;

std::string Deterministic(const LogEntry& entry) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    entry.SerializeToCodedStream(&coded);
  }
  return bytes;
}

LogEntry EntryOf(const AppendBatch& batch, bool with_principal) {
  LogEntry entry;
  entry.set_stream(batch.stream);
  switch (batch.expected.kind) {
    case ExpectedVersion::Kind::kAny:
      entry.set_expected(LogEntry::EXPECTED_ANY);
      break;
    case ExpectedVersion::Kind::kNoStream:
      entry.set_expected(LogEntry::EXPECTED_NO_STREAM);
      break;
    case ExpectedVersion::Kind::kStreamExists:
      entry.set_expected(LogEntry::EXPECTED_STREAM_EXISTS);
      break;
    case ExpectedVersion::Kind::kExact:
      entry.set_expected(LogEntry::EXPECTED_EXACT);
      entry.set_expected_version(batch.expected.version);
      break;
  }
  for (const annals::v1::Event& event : batch.events) {
    *entry.add_events() = event;
  }
  if (with_principal) entry.set_principal(batch.principal);
  return entry;
}

bool Plain(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '-';
}

}  // namespace

std::string EncodeEntry(const AppendBatch& batch) {
  return Deterministic(EntryOf(batch, true));
}

absl::StatusOr<AppendBatch> DecodeEntry(absl::string_view payload) {
  LogEntry entry;
  if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the log of record's entry (", payload.size(),
        " bytes) is not an annals.storage.v1.LogEntry"));
  }
  AppendBatch batch;
  batch.stream = std::move(*entry.mutable_stream());
  switch (entry.expected()) {
    case LogEntry::EXPECTED_NO_STREAM:
      batch.expected = ExpectedVersion::NoStream();
      break;
    case LogEntry::EXPECTED_STREAM_EXISTS:
      batch.expected = ExpectedVersion::StreamExists();
      break;
    case LogEntry::EXPECTED_EXACT:
      batch.expected = ExpectedVersion::Exact(entry.expected_version());
      break;
    case LogEntry::EXPECTED_ANY:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "the log of record's entry has an unknown expected version kind ",
          static_cast<int>(entry.expected())));
  }
  batch.events.reserve(entry.events_size());
  for (annals::v1::Event& event : *entry.mutable_events()) {
    batch.events.push_back(std::move(event));
  }
  batch.principal = std::move(*entry.mutable_principal());
  return batch;
}

std::string SubjectToken(absl::string_view stream) {
  std::string token;
  token.reserve(stream.size());
  for (char c : stream) {
    if (Plain(c)) {
      token.push_back(c);
    } else {
      const char byte = c;
      absl::StrAppend(&token, "~",
                      absl::AsciiStrToUpper(absl::BytesToHexString(
                          absl::string_view(&byte, 1))));
    }
  }
  return token;
}

std::string MessageId(const AppendBatch& batch) {
  const std::string bytes = Deterministic(EntryOf(batch, false));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace annals::storage::jetstream
