#include "clients/cli/audit_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/cli_common.h"
#include "clients/cli/export.h"
#include "clients/cli/relationship_format.h"
#include "proto/date_text.h"
#include "google/protobuf/util/json_util.h"
#include "proto/rpc_status.h"
#include "services/audit/signer.h"
#include "services/model/projection.h"
#include "storage/merkle.h"

ABSL_FLAG(std::string, public_key, "",
          "verify, replay, audit: PEM file of the server's Ed25519 public key "
          "(from `annals public-key`) that tree heads must be signed with.");
ABSL_FLAG(std::string, state, "",
          "audit: file holding the tree head of the previous audit; written "
          "with the new one.");
ABSL_FLAG(std::string, to_position, "",
          "replay: the state as the log knew it at this position.");
ABSL_FLAG(std::string, to_date, "",
          "replay: the state of the world by this occurred date (YYYY, "
          "YYYY-MM or YYYY-MM-DD).");

namespace annals {
namespace {

int UsageError(absl::string_view message) {
  return ::annals::UsageError(std::cerr, message);
}

int Failure(const absl::Status& status) {
  return ::annals::ServerError(std::cerr, status);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

std::string HeadLine(const v1::SignedTreeHead& head) {
  return absl::StrCat("tree size ", head.tree_size(), ", root ",
                      Hex(head.root_hash()));
}

// Writes `contents` to `path` through a temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot replace ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

// The public key of --public-key, or "" when the flag is not given.
absl::StatusOr<std::string> PublicKeyFlag() {
  const std::string path = absl::GetFlag(FLAGS_public_key);
  if (path.empty()) return std::string();
  return ReadFile(path);
}

}  // namespace

absl::Status RunAudit(Client& client, const std::string& state_file,
                      const std::string& public_key_pem, std::ostream& out,
                      std::ostream& err) {
  absl::StatusOr<v1::GetPublicKeyResponse> key = client.GetPublicKey();
  if (!key.ok()) return key.status();
  if (!public_key_pem.empty()) {
    absl::StatusOr<std::string> trusted = services::KeyIdOfPublicKey(public_key_pem);
    if (!trusted.ok()) return trusted.status();
    if (*trusted != key->key_id()) {
      return absl::FailedPreconditionError(
          "the server signs with another key than --public-key");
    }
  }
  absl::StatusOr<v1::SignedTreeHead> head = client.GetTreeHead();
  if (!head.ok()) return head.status();
  if (absl::Status s = services::VerifyTreeHead(*head, key->public_key_pem());
      !s.ok()) {
    return absl::DataLossError(absl::StrCat("new tree head: ", s.message()));
  }

  std::optional<v1::SignedTreeHead> saved;
  if (std::filesystem::exists(state_file)) {
    absl::StatusOr<std::string> json = ReadFile(state_file);
    if (!json.ok()) return json.status();
    v1::SignedTreeHead old;
    if (!google::protobuf::util::JsonStringToMessage(*json, &old).ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          state_file, " does not hold a tree head (JSON SignedTreeHead)"));
    }
    if (old.key_id() != key->key_id()) {
      return absl::FailedPreconditionError(
          "the server now signs with another key than the saved tree head's");
    }
    if (absl::Status s = services::VerifyTreeHead(old, key->public_key_pem());
        !s.ok()) {
      return absl::DataLossError(absl::StrCat("saved tree head: ", s.message()));
    }
    if (head->tree_size() < old.tree_size()) {
      return absl::DataLossError(absl::StrCat(
          "the log shrank: the saved tree head has ", old.tree_size(),
          " positions, the server's has ", head->tree_size()));
    }
    if (old.tree_size() > 0) {
      std::vector<std::string> proof;
      if (old.tree_size() < head->tree_size()) {
        absl::StatusOr<v1::ProveConsistencyResponse> response =
            client.ProveConsistency(old.tree_size(), head->tree_size());
        if (!response.ok()) return response.status();
        proof.assign(response->proof().begin(), response->proof().end());
      }
      if (absl::Status s = storage::merkle::VerifyConsistency(
              old.tree_size(), head->tree_size(), old.root_hash(),
              head->root_hash(), proof);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat(
            "the log is not an extension of the saved tree head of size ",
            old.tree_size(), ": ", s.message()));
      }
    }
    saved = std::move(old);
  }

  std::string json;
  (void)google::protobuf::util::MessageToJsonString(*head, &json);
  if (absl::Status s = WriteFileAtomically(state_file, json + "\n"); !s.ok()) {
    return s;
  }
  if (saved.has_value()) {
    out << "consistent: tree size " << saved->tree_size() << " -> "
        << head->tree_size() << ", root " << Hex(head->root_hash())
        << "; saved in " << state_file << "\n";
  } else {
    out << "first audit: " << HeadLine(*head) << " verified and saved in "
        << state_file << "\n";
    if (public_key_pem.empty()) {
      err << "annals: WARNING: no --public-key: this first audit trusted the "
             "key the server presented (key id "
          << Hex(key->key_id())
          << "). Whoever answers on this address could have signed this "
             "history. Pin the key: fetch it once over a channel you trust "
             "(annals public-key > annals.pub, or signing_key.pem's public "
             "half on the server's host) and audit with --public-key "
             "annals.pub.\n";
    }
  }
  return absl::OkStatus();
}

int ExportCommand(Client& client, const std::vector<char*>& args,
                  const CommonFlags& flags) {
  if (!args.empty()) return UsageError("export takes no arguments (use --to FILE)");
  absl::StatusOr<uint64_t> written;
  if (flags.to.empty() || flags.to == "-") {
    written = WriteExport(client, std::cout);
  } else {
    const std::string tmp = absl::StrCat(flags.to, ".partial");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return Failure(absl::UnavailableError(absl::StrCat("cannot write ", tmp)));
      written = WriteExport(client, out);
    }
    if (written.ok()) {
      std::error_code error;
      std::filesystem::rename(tmp, flags.to, error);
      if (error) {
        return Failure(absl::UnavailableError(
            absl::StrCat("cannot write ", flags.to, ": ", error.message())));
      }
      std::cerr << "exported " << *written << " positions to " << flags.to << "\n";
    } else {
      std::filesystem::remove(tmp);
    }
  }
  return written.ok() ? 0 : Failure(written.status());
}

int VerifyCommand(Client&, const std::vector<char*>& args, const CommonFlags&) {
  if (args.size() != 1) return UsageError("verify takes exactly one FILE");
  if (absl::GetFlag(FLAGS_public_key).empty()) {
    return UsageError("verify needs --public-key KEY (a PEM file)");
  }
  absl::StatusOr<std::string> key = PublicKeyFlag();
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  std::ifstream in(args[0], std::ios::binary);
  if (!in) return UsageError(absl::StrCat("cannot read ", args[0]));
  absl::StatusOr<VerifiedExport> verified = ReadVerifiedExport(in, *key);
  if (!verified.ok()) {
    std::cerr << "verification FAILED: " << verified.status().message() << "\n";
    return 1;
  }
  std::cout << "OK: " << verified->events.size()
            << " positions; hash chain, Merkle root and signature verify ("
            << HeadLine(verified->tree_head) << ")\n";
  return 0;
}

int AuditCommand(Client& client, const std::vector<char*>& args,
                 const CommonFlags&) {
  if (!args.empty()) return UsageError("audit takes no arguments");
  const std::string state = absl::GetFlag(FLAGS_state);
  if (state.empty()) return UsageError("audit needs --state FILE");
  absl::StatusOr<std::string> key = PublicKeyFlag();
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  absl::Status audited = RunAudit(client, state, *key, std::cout, std::cerr);
  if (!audited.ok()) {
    std::cerr << "audit FAILED: " << rpc::OneLine(audited) << "\n";
    return 1;
  }
  return 0;
}

int ReplayCommand(Client&, const std::vector<char*>& args,
                  const CommonFlags& flags) {
  if (args.size() != 1) return UsageError("replay takes exactly one FILE");
  ReplayPoint point;
  const std::string to_position = absl::GetFlag(FLAGS_to_position);
  const std::string to_date = absl::GetFlag(FLAGS_to_date);
  if (to_position.empty() == to_date.empty()) {
    return UsageError("replay needs exactly one of --to-position P and --to-date D");
  }
  if (!to_position.empty()) {
    uint64_t position = 0;
    if (!absl::SimpleAtoi(to_position, &position) || position == 0) {
      return UsageError(absl::StrCat("--to-position: not a position: ", to_position));
    }
    point.to_position = position;
  } else {
    absl::StatusOr<v1::Date> date = ParseDateText("--to-date", to_date);
    if (!date.ok()) return UsageError(std::string(date.status().message()));
    point.to_date = *date;
  }
  absl::StatusOr<std::string> key = PublicKeyFlag();
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  std::ifstream in(args[0], std::ios::binary);
  if (!in) return UsageError(absl::StrCat("cannot read ", args[0]));
  std::string trusted = *key;
  if (trusted.empty()) {
    // No key given: check the export against the key it names; the chain
    // and the root are checked all the same.
    std::string first;
    std::getline(in, first);
    v1::ExportRecord record;
    if (!google::protobuf::util::JsonStringToMessage(first, &record).ok() ||
        !record.has_header()) {
      std::cerr << "replay FAILED: the export does not start with a header\n";
      return 1;
    }
    trusted = record.header().public_key_pem();
    in.seekg(0);
    std::cerr << "annals: no --public-key: the signature is checked with the "
                 "key the export names\n";
  }
  absl::StatusOr<VerifiedExport> verified = ReadVerifiedExport(in, trusted);
  if (!verified.ok()) {
    std::cerr << "replay FAILED: " << verified.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<v1::RelationshipState>> states =
      Replay(verified->events, point);
  if (!states.ok()) return UsageError(std::string(states.status().message()));
  for (const v1::RelationshipState& state : *states) {
    // As the server answers: the window ends with the date's month (its
    // December for a year), else with the state's latest month.
    const absl::optional<services::YearMonth> end =
        point.to_date.has_value()
            ? absl::make_optional(services::YearMonth{
                  point.to_date->year(),
                  point.to_date->month() == 0 ? 12 : point.to_date->month()})
            : services::LatestMonth(state);
    const v1::GoldsteinIndex index = services::ToIndex(
        end.has_value() ? services::TrailingIndex(state, *end)
                        : services::GoldsteinWindow(),
        end);
    if (flags.json) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(state, &json);
      std::cout << json << "\n";
    } else {
      std::cout << FormatRelationship(state, index) << "\n\n";
    }
  }
  return 0;
}

int PublicKeyCommand(Client& client, const std::vector<char*>& args,
                     const CommonFlags&) {
  if (!args.empty()) return UsageError("public-key takes no arguments");
  absl::StatusOr<v1::GetPublicKeyResponse> key = client.GetPublicKey();
  if (!key.ok()) return Failure(key.status());
  std::cout << key->public_key_pem();
  return 0;
}

}  // namespace annals
