#include "services/http/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/http/sse.h"
#include "services/http/transcoder.h"

namespace annals::http {
namespace {

namespace http = beast::http;

// How long a connection may take to send a request (or finish its TLS
// handshake), and to take a response.
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// The subject of the verified client certificate of `ssl`, as gRPC names
// it (services/auth/call_access.h): its common name, else its first
// subject alternative name; empty without a verified certificate.
std::string VerifiedSubject(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  std::string subject;
  X509_NAME* name = X509_get_subject_name(cert);
  if (const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
      index >= 0) {
    unsigned char* text = nullptr;
    const int length = ASN1_STRING_to_UTF8(
        &text, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
    if (length > 0) subject.assign(reinterpret_cast<char*>(text), length);
    OPENSSL_free(text);
    if (!subject.empty()) return subject;
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* each = sk_GENERAL_NAME_value(names, i);
    if (each->type == GEN_DNS || each->type == GEN_URI ||
        each->type == GEN_EMAIL) {
      const ASN1_IA5STRING* text = each->d.ia5;
      subject.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     ASN1_STRING_length(text));
      break;
    }
  }
  GENERAL_NAMES_free(names);
  return subject;
}

template <typename Stream>
constexpr bool IsTls() {
  return !std::is_same_v<Stream, beast::tcp_stream>;
}

// The heartbeat comment, one copy for every stream.
std::shared_ptr<const std::string> Heartbeat() {
  static const auto* heartbeat =
      new std::shared_ptr<const std::string>(
          std::make_shared<const std::string>(kSseHeartbeat));
  return *heartbeat;
}

}  // namespace

Response JsonError(const grpc::Status& status, unsigned version) {
  Response response(
      static_cast<http::status>(HttpStatusOf(status.error_code())), version);
  response.set(http::field::content_type, "application/json");
  response.body() = StatusJson(status);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    response.set(http::field::www_authenticate, "Bearer");
  }
  return response;
}

template <typename Stream>
void Connection<Stream>::Start() {
  beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
  if constexpr (IsTls<Stream>()) {
    stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&Self::OnHandshake, this->shared_from_this()));
  } else {
    Read();
  }
}

template <typename Stream>
void Connection<Stream>::OnHandshake(beast::error_code error) {
  if (error) return;  // a failed handshake: nothing to answer
  if constexpr (IsTls<Stream>()) {
    caller_.certificate_subject = VerifiedSubject(stream_.native_handle());
  }
  Read();
}

template <typename Stream>
void Connection<Stream>::Read() {
  parser_.emplace();
  parser_->body_limit(host_->max_body_bytes());
  beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&Self::OnReadHeader, this->shared_from_this()));
}

template <typename Stream>
void Connection<Stream>::OnReadHeader(beast::error_code error, size_t bytes) {
  if (error) {
    OnRead(error, bytes);
    return;
  }
  // A client that asks (curl does for bodies over 1 KiB) sends its body
  // only after "100 Continue", or after waiting a second for it.
  const auto& request = parser_->get();
  const auto expect = request.find(http::field::expect);
  if (expect == request.end() || !beast::iequals(expect->value(), "100-continue") ||
      parser_->is_done()) {
    ReadBody();
    return;
  }
  auto go_on = std::make_shared<http::response<http::empty_body>>(
      http::status::continue_, request.version());
  http::async_write(stream_, *go_on,
                    [self = this->shared_from_this(), go_on](
                        beast::error_code error, size_t) {
                      if (error) {
                        self->Close();
                        return;
                      }
                      self->ReadBody();
                    });
}

template <typename Stream>
void Connection<Stream>::ReadBody() {
  http::async_read(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&Self::OnRead, this->shared_from_this()));
}

template <typename Stream>
void Connection<Stream>::OnRead(beast::error_code error, size_t) {
  if (error == http::error::body_limit) {
    Response response =
        JsonError(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               absl::StrCat("the request body is larger than ",
                                            host_->max_body_bytes(), " bytes")),
                  11);
    response.result(http::status::payload_too_large);
    Send(std::move(response), false);
    return;
  }
  if (error) {
    Close();
    return;
  }
  Handle(parser_->release());
}

template <typename Stream>
void Connection<Stream>::Handle(Request request) {
  const bool keep_alive = request.keep_alive();
  const unsigned version = request.version();
  auto self = this->shared_from_this();
  ConnectionHost::Answer answer = host_->Dispatch(
      request, caller_, [self, keep_alive, version](Response response) {
        response.version(version);
        net::post(self->stream_.get_executor(),
                  [self, keep_alive, response = std::move(response)]() mutable {
                    self->Send(std::move(response), keep_alive);
                  });
      });
  if (answer.stream.has_value()) {
    StartStream(request, *std::move(answer.stream));
  } else if (answer.response.has_value()) {
    answer.response->version(version);
    Send(*std::move(answer.response), keep_alive);
  }
}

template <typename Stream>
void Connection<Stream>::Send(Response response, bool keep_alive) {
  host_->observer().Responded(response.result_int());
  response.keep_alive(keep_alive);
  response.prepare_payload();
  auto message = std::make_shared<Response>(std::move(response));
  beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
  http::async_write(stream_, *message,
                    [self = this->shared_from_this(), message, keep_alive](
                        beast::error_code error, size_t) {
                      if (error || !keep_alive) {
                        self->Close();
                      } else {
                        self->Read();
                      }
                    });
}

template <typename Stream>
void Connection<Stream>::Close() {
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().shutdown(
      net::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream_).close();
}

// --- Event streams ---

template <typename Stream>
void Connection<Stream>::StartStream(const Request& request,
                                     ConnectionHost::StreamStart start) {
  head_ = std::make_unique<http::response<http::empty_body>>(
      http::status::ok, request.version());
  head_->set(http::field::content_type, "text/event-stream");
  head_->set(http::field::cache_control, "no-cache");
  head_->set("X-Accel-Buffering", "no");
  host_->Decorate(request, head_.get());
  head_->keep_alive(false);
  head_->chunked(true);
  beast::get_lowest_layer(stream_).expires_never();
  auto self = this->shared_from_this();
  const auto executor = stream_.get_executor();
  stream_call_ = host_->OpenStream(
      start,
      [self, executor](std::shared_ptr<const std::string> text) {
        net::post(executor, [self, text = std::move(text)]() mutable {
          self->OnStreamMessage(std::move(text));
        });
      },
      [self, executor](const grpc::Status& status) {
        net::post(executor, [self, status] { self->OnStreamDone(status); });
      });
  if (stream_call_ == nullptr) {
    call_done_ = true;
    Send(JsonError(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "annalsd is shutting down"),
                   request.version()),
         false);
    return;
  }
  WatchForClose();
  ArmHeartbeat();
}

template <typename Stream>
void Connection<Stream>::WatchForClose() {
  // The client sends nothing on an event stream; a read that ends means it
  // closed the connection.
  stream_.async_read_some(
      net::buffer(probe_),
      [self = this->shared_from_this()](beast::error_code error, size_t) {
        if (!error) {
          self->WatchForClose();
          return;
        }
        self->closed_ = true;
        self->heartbeat_.cancel();
        self->stream_call_->Cancel();
      });
}

template <typename Stream>
void Connection<Stream>::ArmHeartbeat() {
  heartbeat_.expires_after(absl::ToChronoNanoseconds(host_->heartbeat()));
  heartbeat_.async_wait(
      [self = this->shared_from_this()](beast::error_code error) {
        if (error || self->closed_ || self->call_done_) return;
        if (!self->writing_ && self->queue_.empty()) {
          self->queue_.push_back({Heartbeat(), false});
          self->Pump();
        }
        self->ArmHeartbeat();
      });
}

template <typename Stream>
void Connection<Stream>::OnStreamMessage(
    std::shared_ptr<const std::string> text) {
  queue_.push_back({std::move(text), true});
  Pump();
}

template <typename Stream>
void Connection<Stream>::OnStreamDone(const grpc::Status& status) {
  call_done_ = true;
  heartbeat_.cancel();
  if (closed_) {
    Close();
    return;
  }
  if (!head_sent_ && queue_.empty() && !status.ok()) {
    // Refused before anything was streamed: an ordinary error response.
    Response response = JsonError(status, head_->version());
    for (const auto& field : *head_) {
      if (field.name() == http::field::access_control_allow_origin ||
          field.name() == http::field::vary) {
        response.set(field.name(), field.value());
      }
    }
    Send(std::move(response), false);
    return;
  }
  if (!status.ok()) {
    queue_.push_back({std::make_shared<const std::string>(absl::StrCat(
                          "event: error\ndata: ", StatusJson(status), "\n\n")),
                      false});
  }
  Pump();
}

template <typename Stream>
void Connection<Stream>::Pump() {
  if (writing_ || closed_ || finished_) return;
  auto self = this->shared_from_this();
  if (!head_sent_) {
    if (queue_.empty() && !call_done_) return;
    writing_ = true;
    head_writer_ =
        std::make_unique<http::response_serializer<http::empty_body>>(*head_);
    host_->observer().Responded(head_->result_int());
    http::async_write_header(stream_, *head_writer_,
                             [self](beast::error_code error, size_t) {
                               self->writing_ = false;
                               self->head_sent_ = true;
                               if (error) {
                                 self->closed_ = true;
                                 self->stream_call_->Cancel();
                                 return;
                               }
                               self->Pump();
                             });
    return;
  }
  if (!queue_.empty()) {
    writing_ = true;
    writing_chunk_ = std::move(queue_.front());
    queue_.pop_front();
    net::async_write(
        stream_, http::make_chunk(net::buffer(*writing_chunk_.text)),
        [self](beast::error_code error, size_t) {
          self->writing_ = false;
          if (error) {
            self->closed_ = true;
            self->stream_call_->Cancel();
            return;
          }
          if (self->writing_chunk_.message) self->stream_call_->Next();
          self->Pump();
        });
    return;
  }
  if (call_done_) {
    finished_ = true;
    writing_ = true;
    net::async_write(stream_, http::make_chunk_last(),
                     [self](beast::error_code, size_t) { self->Close(); });
  }
}

template class Connection<beast::tcp_stream>;
template class Connection<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace annals::http
