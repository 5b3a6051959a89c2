// The connection to NATS and the log of record's stream (nats_client.h).
#include "storage/jetstream/nats_client.h"

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/jetstream/log_entry.h"

namespace annals::storage::jetstream {
namespace {

void OnDisconnected(natsConnection* connection, void* closure) {
  const NatsOptions& options = static_cast<NatsClient*>(closure)->options();
  if (!options.on_connection) return;
  const char* error = nullptr;
  natsConnection_GetLastError(connection, &error);
  options.on_connection(
      false, absl::StrCat("lost the connection to NATS",
                          error != nullptr && *error != '\0'
                              ? absl::StrCat(": ", error)
                              : ""));
}

void OnReconnected(natsConnection* connection, void* closure) {
  const NatsOptions& options = static_cast<NatsClient*>(closure)->options();
  if (!options.on_connection) return;
  char url[256] = {0};
  natsConnection_GetConnectedUrl(connection, url, sizeof(url));
  options.on_connection(true, absl::StrCat("connected to NATS at ", url));
}

}  // namespace

absl::Status FromNats(natsStatus status, absl::string_view doing,
                      jsErrCode code) {
  if (status == NATS_OK) return absl::OkStatus();
  std::string text = natsStatus_GetText(status);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && text != last) {
    absl::StrAppend(&text, " (", last, ")");
  }
  if (code != 0) absl::StrAppend(&text, " [JetStream error ", code, "]");
  const std::string message = absl::StrCat("cannot ", doing, ": ", text);
  // JetStream's answers for a cluster without a leader or enough peers yet.
  if (code == JSClusterNotAvailErr || code == JSClusterNoPeersErr ||
      code == JSStreamOfflineErr) {
    return absl::UnavailableError(message);
  }
  switch (status) {
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_IO_ERROR:
    case NATS_NOT_YET_CONNECTED:
      return absl::UnavailableError(message);
    case NATS_INVALID_ARG:
    case NATS_MAX_PAYLOAD:
      return absl::InvalidArgumentError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

absl::StatusOr<std::unique_ptr<NatsClient>> NatsClient::Connect(
    const NatsOptions& options, jsPubAckHandler publish_ack,
    void* publish_ack_closure) {
  if (options.servers.empty()) {
    return absl::InvalidArgumentError("no NATS server to connect to");
  }
  std::unique_ptr<NatsClient> client(new NatsClient(options));
  natsOptions* o = nullptr;
  natsStatus s = natsOptions_Create(&o);
  client->nats_options_ = o;
  std::vector<const char*> servers;
  for (const std::string& server : options.servers) {
    servers.push_back(server.c_str());
  }
  if (s == NATS_OK) {
    s = natsOptions_SetServers(o, servers.data(),
                               static_cast<int>(servers.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetName(o, "annalsd");
  // Reconnect for ever; appends meanwhile fail as UNAVAILABLE.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) {
    s = natsOptions_SetTimeout(
        o, absl::ToInt64Milliseconds(options.request_timeout));
  }
  if (s == NATS_OK && !options.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(o, options.creds_file.c_str(),
                                                nullptr);
  }
  const bool tls = !options.tls_ca.empty() || !options.tls_cert.empty();
  if (s == NATS_OK && tls) s = natsOptions_SetSecure(o, true);
  if (s == NATS_OK && !options.tls_ca.empty()) {
    s = natsOptions_LoadCATrustedCertificates(o, options.tls_ca.c_str());
  }
  if (s == NATS_OK && !options.tls_cert.empty()) {
    s = natsOptions_LoadCertificatesChain(o, options.tls_cert.c_str(),
                                          options.tls_key.c_str());
  }
  // The callbacks read the client's options; the client outlives them
  // (~NatsClient).
  void* closure = client.get();
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, OnDisconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, OnReconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(o, OnClosed, closure);
  if (s != NATS_OK) return FromNats(s, "set the NATS connection's options");
  s = natsConnection_Connect(&client->connection_, o);
  if (s != NATS_OK) {
    return FromNats(s, absl::StrCat("connect to NATS at ",
                                    absl::StrJoin(options.servers, ",")));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = absl::ToInt64Milliseconds(options.request_timeout);
  js_options.PublishAsync.MaxPending = options.max_pending_publishes;
  js_options.PublishAsync.StallWait =
      absl::ToInt64Milliseconds(options.request_timeout);
  js_options.PublishAsync.AckHandler = publish_ack;
  js_options.PublishAsync.AckHandlerClosure = publish_ack_closure;
  s = natsConnection_JetStream(&client->js_, client->connection_, &js_options);
  if (s != NATS_OK) return FromNats(s, "open a JetStream context");
  absl::Status stream = client->OpenStream();
  if (!stream.ok()) return stream;
  return client;
}

absl::Status NatsClient::OpenStream() {
  // JetStream leaves requests unanswered while its cluster forms (no meta
  // leader, a new stream without its own) and when several clients create
  // the same stream at once; an answer comes on a later try.
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.start_timeout;
  for (int tries = 1;; ++tries) {
    absl::Status stream = EnsureStream();
    if (!absl::IsUnavailable(stream)) return stream;
    if (absl::Now() + kStreamRetryWait >= deadline) {
      return absl::UnavailableError(absl::StrCat(
          stream.message(), " (", tries, " tries over ",
          absl::FormatDuration(absl::Trunc(absl::Now() - start,
                                           absl::Milliseconds(1))),
          ")"));
    }
    absl::SleepFor(kStreamRetryWait);
  }
}

void NatsClient::OnClosed(natsConnection*, void* closure) {
  static_cast<NatsClient*>(closure)->closed_.Notify();
}

NatsClient::~NatsClient() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (connection_ != nullptr) {
    natsConnection_Close(connection_);
    // The C client calls back on a thread of its own, after Close returns:
    // a lost connection's callback, then the closed one, always last. Wait
    // for it, so that none runs on a client (and options) already freed.
    closed_.WaitForNotificationWithTimeout(kClosedWait);
    natsConnection_Destroy(connection_);
  }
  if (nats_options_ != nullptr) natsOptions_Destroy(nats_options_);
}

std::string NatsClient::SubjectOf(absl::string_view stream) const {
  return absl::StrCat("annals.", options_.stream, ".", SubjectToken(stream));
}

std::string NatsClient::AllSubjects() const {
  return absl::StrCat("annals.", options_.stream, ".*");
}

int64_t NatsClient::MaxPayload() const {
  return natsConnection_GetMaxPayload(connection_);
}

bool NatsClient::Connected() const {
  return natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED;
}

absl::StatusOr<uint64_t> NatsClient::LastSequence() const {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetStreamInfo(&info, js_, options_.stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    return FromNats(s, absl::StrCat("read stream ", options_.stream), code);
  }
  const uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

absl::Status NatsClient::EnsureStream() {
  const std::string subjects = AllSubjects();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetStreamInfo(&info, js_, options_.stream.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    bool carries = false;
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      carries = carries || subjects == info->Config->Subjects[i];
    }
    const bool deny = info->Config->DenyDelete && info->Config->DenyPurge;
    jsStreamInfo_Destroy(info);
    if (!carries) {
      return absl::FailedPreconditionError(absl::StrCat(
          "JetStream stream ", options_.stream, " exists but does not carry "
          "the subjects ", subjects, "; it is not an annals log of record"));
    }
    if (!deny) {
      return absl::FailedPreconditionError(absl::StrCat(
          "JetStream stream ", options_.stream, " allows deleting or purging "
          "messages; a log of record must deny both"));
    }
    return absl::OkStatus();
  }
  if (code != JSStreamNotFoundErr) {
    return FromNats(s, absl::StrCat("read stream ", options_.stream), code);
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options_.stream.c_str();
  const char* subject_list[] = {subjects.c_str()};
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  config.Replicas = options_.replicas;
  config.MaxMsgs = -1;
  config.MaxBytes = -1;
  config.MaxAge = 0;  // for ever
  config.MaxMsgsPerSubject = -1;
  config.Duplicates = absl::ToInt64Nanoseconds(options_.dedupe_window);
  config.DenyDelete = true;
  config.DenyPurge = true;
  s = js_AddStream(&info, js_, &config, nullptr, &code);
  if (s != NATS_OK && code == JSStreamNameExistErr) return EnsureStream();
  if (s != NATS_OK) {
    return FromNats(s, absl::StrCat("create stream ", options_.stream), code);
  }
  jsStreamInfo_Destroy(info);
  return absl::OkStatus();
}

}  // namespace annals::storage::jetstream
