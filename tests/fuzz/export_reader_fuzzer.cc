// An export file read and verified offline (ReadVerifiedExport), against
// the key its header names (else a key of its own): every bad line,
// chain hash, root or signature is DATA_LOSS; a verified export replays.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "annals/v1/audit.pb.h"
#include "clients/cli/export.h"
#include "google/protobuf/util/json_util.h"
#include "services/audit/signer.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {
namespace {

// The public key the first line's header names, else a generated one.
std::string TrustedKey(const std::string& text) {
  static const std::string* const fallback = [] {
    auto signer = services::TreeHeadSigner::Generate();
    Require(signer.ok(), "a key is generated");
    return new std::string((*signer)->public_key_pem());
  }();
  v1::ExportRecord first;
  if (google::protobuf::util::JsonStringToMessage(
          text.substr(0, text.find('\n')), &first)
          .ok() &&
      !first.header().public_key_pem().empty()) {
    return first.header().public_key_pem();
  }
  return *fallback;
}

void CheckExport(const std::string& text) {
  std::istringstream in(text);
  absl::StatusOr<VerifiedExport> verified = ReadVerifiedExport(in, TrustedKey(text));
  if (!verified.ok()) {
    Require(absl::IsDataLoss(verified.status()) ||
                absl::IsInvalidArgument(verified.status()),
            "a bad export is DATA_LOSS (a bad key INVALID_ARGUMENT)");
    return;
  }
  Require(verified->events.size() == verified->tree_head.tree_size(),
          "a verified export holds the tree head's positions");
  RequireOk(Replay(verified->events, ReplayPoint()).status(),
            "a verified export replays");
}

}  // namespace
}  // namespace annals::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  annals::fuzz::CheckExport(
      std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
