// The HTTP transport of the KServe v2 front end: Boost.Beast connections, TLS, keep-alive,
// reading requests and writing responses, and the server's start and stop (http_server.h). What
// each request means is http_routes.cc's; the request and response bodies are http_codec.cc's.
#include "server/http_server.h"

#include <openssl/ssl.h>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/beast/ssl.hpp>
#include <future>
#include <utility>

#include "server/http_server_impl.h"
#include "server/log.h"

namespace supernova::server {
namespace {

using TlsStream = beast::ssl_stream<Socket>;

constexpr size_t kHeaderLimit = 16 * 1024;
// Header fields per request: bytes alone would allow ~4000 tiny fields, each a node Beast
// allocates and every lookup walks.
constexpr size_t kMaxHeaderFields = 100;
// How much a connection reads ahead while its request is queued (to notice a disconnect).
constexpr size_t kWatchBytes = 4096;
// After the last response of a connection: how long it keeps reading (and discarding) what
// the client still sends, so that closing does not reset the connection under the response.
constexpr auto kLinger = std::chrono::seconds(3);

// TLS 1.2 and 1.3 only; for 1.2, forward-secret key exchange with AEAD ciphers only (1.3's
// suites are all of that kind, so its defaults stay). With a client CA, a client must show a
// certificate that CA signed: the handshake fails otherwise.
Status HardenTls(SSL_CTX* ctx, const std::string& client_ca_file) {
  static constexpr char kTls12Ciphers[] =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    return Status::Internal("http: OpenSSL refused the TLS version or cipher settings");
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (client_ca_file.empty()) return Status::Ok();
  if (SSL_CTX_load_verify_locations(ctx, client_ca_file.c_str(), nullptr) != 1)
    return Status::InvalidArgument("http: cannot read the client CA file '" + client_ca_file + "'");
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
  if (names == nullptr)
    return Status::InvalidArgument("http: no certificate in the client CA file '" + client_ca_file +
                                   "'");
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return Status::Ok();
}

}  // namespace

// Registration of a live connection; the base class of every connection, so that it is the
// last part destroyed: when Stop() sees the count reach zero, no socket is left.
class LiveToken {
 public:
  LiveToken(HttpServer::Impl* server, uint64_t id) : server_(server), id_(id) {}
  ~LiveToken();
  LiveToken(const LiveToken&) = delete;
  LiveToken& operator=(const LiveToken&) = delete;
  uint64_t id() const { return id_; }

 protected:
  HttpServer::Impl* server_;

 private:
  uint64_t id_;
};

class ConnectionBase : public LiveToken, public std::enable_shared_from_this<ConnectionBase> {
 public:
  using LiveToken::LiveToken;
  virtual ~ConnectionBase() = default;
  // Both are posted onto the connection's thread by Stop().
  // Stop reading new requests: close now when idle, else after the current response.
  virtual void BeginStop() = 0;
  // Cancel a queued request and close.
  virtual void ForceStop() = 0;
  virtual Executor executor() = 0;
};

LiveToken::~LiveToken() { server_->Unregister(id_); }

namespace {

// One client connection: reads a request, answers it (now, or when its inference is done),
// reads the next. Every member runs on the connection's thread.
template <class Stream>
class Connection final : public ConnectionBase {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Connection(HttpServer::Impl* server, uint64_t id, Stream stream)
      : ConnectionBase(server, id), stream_(std::move(stream)), timer_(Sock().get_executor()) {}

  Executor executor() override { return Sock().get_executor(); }

  void Run() {
    waiting_request_ = true;
    waiting_since_ = Clock::now();
    ArmIdleTimer();
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](error_code ec) {
        if (self->closed_) return;
        if (ec) return self->Close();
        self->ReadRequest();
      });
    } else {
      ReadRequest();
    }
  }

  void BeginStop() override {
    stopping_ = true;
    if (closed_) return;
    // Bytes already in the socket are a request the client sent before it could know: read and
    // answer it (the core refuses it with 503) rather than reset the connection under it.
    error_code ignored;
    const bool request_started =
        (parser_ && parser_->got_some()) || buffer_.size() > 0 || Sock().available(ignored) > 0;
    if (waiting_request_ && !request_started) Close();
  }

  void ForceStop() override {
    if (infer_pending_ && handle_) handle_->Cancel();
    Close();
  }

 private:
  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  Socket& Sock() { return beast::get_lowest_layer(stream_); }

  // ---- reading requests ----

  void ReadRequest() {
    if (stopping_ && buffer_.size() == 0) return Close();
    if (buffer_.size() == 0 && buffer_.capacity() > 1024 * 1024) buffer_.shrink_to_fit();
    waiting_request_ = true;
    waiting_since_ = Clock::now();
    parser_.emplace();
    parser_->body_limit(server_->options().max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    read_pending_ = true;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    read_pending_ = false;
    if (closed_) return;
    if (ec) return OnReadError(ec);
    const Request& req = parser_->get();
    if (static_cast<size_t>(std::distance(req.begin(), req.end())) > kMaxHeaderFields) {
      waiting_request_ = false;
      return SendFinal(ErrorResponse(
          431, "request has more than " + std::to_string(kMaxHeaderFields) + " header fields"));
    }
    if (req.version() >= 11 && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      write_pending_ = true;
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](error_code wec, size_t) {
                         self->write_pending_ = false;
                         if (self->closed_) return;
                         if (wec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    read_pending_ = true;
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = Self()](error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnReadError(error_code ec) {
    waiting_request_ = false;
    if (ec == bhttp::error::body_limit) {
      return SendFinal(ErrorResponse(
          413,
          "request body exceeds " + std::to_string(server_->options().max_body_bytes) + " bytes"));
    }
    if (ec == bhttp::error::header_limit)
      return SendFinal(ErrorResponse(431, "request headers exceed 16 KiB"));
    if (ec.category() == beast::http::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return SendFinal(ErrorResponse(400, "malformed HTTP request: " + ec.message()));
    }
    Close();  // the client closed, reset, or timed out
  }

  void OnRequest(error_code ec) {
    read_pending_ = false;
    if (closed_) return;
    if (ec) return OnReadError(ec);
    waiting_request_ = false;
    Request req = parser_->release();
    parser_.reset();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    Routed routed;
    try {
      routed = server_->Route(req);
    } catch (const std::exception& e) {  // allocation failure and the like: this request only
      routed.response = ErrorResponse(500, std::string("internal error: ") + e.what());
    }
    if (routed.response) return Send(std::move(*routed.response));
    StartInfer(std::move(*routed.infer));
  }

  // ---- inference ----

  void StartInfer(http::ParsedInferRequest parsed) {
    format_ = std::move(parsed.output_format);
    model_ = parsed.request.model;
    model_version_ = parsed.request.version;
    infer_pending_ = true;
    Executor ex = executor();
    std::shared_ptr<Connection> self = Self();
    handle_ = server_->core()->Infer(
        std::move(parsed.request), [self, ex](Status s, InferResponse r) mutable {
          // A scheduler thread (or, refused at once, this one inside Infer): hand over.
          net::post(ex, [self = std::move(self), s = std::move(s), r = std::move(r)]() mutable {
            self->OnInferDone(std::move(s), std::move(r));
          });
        });
    if (infer_pending_) Watch();
  }

  // Reads ahead while the request is queued: an error or end of stream means the client went
  // away and the request is cancelled; bytes are the next (pipelined) request, kept in buffer_.
  void Watch() {
    if (read_pending_ || buffer_.size() > 0) return;
    read_pending_ = true;
    stream_.async_read_some(buffer_.prepare(kWatchBytes),
                            [self = Self()](error_code ec, size_t n) { self->OnWatch(ec, n); });
  }

  void OnWatch(error_code ec, size_t n) {
    read_pending_ = false;
    if (closed_) return;
    if (ec) {
      client_gone_ = true;
      if (infer_pending_) {
        if (handle_) handle_->Cancel();  // frees the queue slot; OnInferDone closes
        return;
      }
      if (!write_pending_) Close();  // else the write fails or finishes, then closes
      return;
    }
    buffer_.commit(n);
    if (closing_) {
      buffer_.consume(buffer_.size());
      return Drain();
    }
    // Response already written: this is the next request arriving.
    if (!infer_pending_ && !write_pending_) ReadRequest();
  }

  void OnInferDone(Status s, InferResponse r) {
    infer_pending_ = false;
    handle_.reset();
    if (closed_) return;
    if (client_gone_) return Close();
    if (!s.ok()) return Send(server_->InferError(s, model_, model_version_));
    http::EncodedInferResponse enc;
    try {
      enc = http::EncodeInferResponse(r, format_);
    } catch (const std::exception& e) {
      return Send(ErrorResponse(500, std::string("internal error: ") + e.what()));
    }
    Response res =
        MakeResponse(200, std::move(enc.body),
                     enc.header_length ? "application/octet-stream" : "application/json");
    if (enc.header_length)
      res.set("Inference-Header-Content-Length", std::to_string(*enc.header_length));
    Send(std::move(res));
  }

  // ---- writing responses ----

  void SendFinal(Response res) {
    keep_alive_ = false;
    Send(std::move(res));
  }

  void Send(Response res) {
    res.version(version_);
    res.keep_alive(keep_alive_ && !stopping_);
    res.prepare_payload();
    res_ = std::move(res);
    write_pending_ = true;
    bhttp::async_write(stream_, res_,
                       [self = Self()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    write_pending_ = false;
    if (closed_) return;
    if (ec || client_gone_) return Close();
    const bool keep = res_.keep_alive();
    res_ = {};
    if (!keep) return FinishAndClose();
    waiting_request_ = true;
    waiting_since_ = Clock::now();
    if (read_pending_) return;  // the watch read turns into the next request's read
    ReadRequest();
  }

  // ---- closing ----

  // After the last response: end the stream cleanly (TLS close_notify, TCP FIN) and keep
  // reading until the client closes too, or kLinger passes.
  void FinishAndClose() {
    closing_ = true;
    waiting_request_ = false;
    timer_.expires_after(kLinger);
    timer_.async_wait([self = Self()](error_code ec) {
      if (ec != net::error::operation_aborted) self->Close();
    });
    if constexpr (kTls) {
      if (read_pending_) return Close();  // a TLS shutdown cannot run beside a read
      stream_.async_shutdown([self = Self()](error_code) { self->Close(); });
    } else {
      error_code ignored;
      Sock().shutdown(tcp::socket::shutdown_send, ignored);
      Drain();
    }
  }

  void Drain() {
    if (read_pending_) return;
    read_pending_ = true;
    Sock().async_read_some(net::buffer(drain_), [self = Self()](error_code ec, size_t) {
      self->read_pending_ = false;
      if (self->closed_) return;
      if (ec) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    Sock().close(ignored);
    // A queued inference keeps this connection alive until its callback; OnInferDone drops it.
  }

  // One timer per connection, checked every quarter of the idle timeout rather than re-armed
  // per request: a connection that waits for a request longer than the timeout is closed.
  void ArmIdleTimer() {
    const Clock::duration period =
        std::max<Clock::duration>(server_->idle_timeout() / 4, std::chrono::milliseconds(10));
    timer_.expires_after(period);
    timer_.async_wait([self = Self()](error_code ec) {
      if (ec || self->closed_ || self->closing_) return;
      if (self->waiting_request_ &&
          Clock::now() - self->waiting_since_ >= self->server_->idle_timeout()) {
        return self->Close();
      }
      self->ArmIdleTimer();
    });
  }

  Stream stream_;
  Timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Response res_;
  std::array<char, 4096> drain_;

  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool read_pending_ = false;   // a read of any kind (request, watch, drain) is outstanding
  bool write_pending_ = false;  // a response is being written
  bool infer_pending_ = false;  // the core has the request
  bool waiting_request_ = false;
  Clock::time_point waiting_since_;
  bool client_gone_ = false;  // the watch read saw the client leave
  bool stopping_ = false;     // the server is stopping: no request after the current one
  bool closing_ = false;      // the last response is written; draining
  bool closed_ = false;

  std::shared_ptr<RequestHandle> handle_;
  http::OutputFormat format_;
  std::string model_;
  std::string model_version_;
};

}  // namespace

// ---- HttpServer::Impl ---------------------------------------------------------------------

Status HttpServer::Impl::Open() {
  if (options_.threads < 1) return Status::InvalidArgument("http: threads must be at least 1");
  if (options_.port < 0 || options_.port > 65535)
    return Status::InvalidArgument("http: port must be in 0..65535");
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty())
    return Status::InvalidArgument("http: TLS needs both a certificate and a key file");
  for (const HttpExtension& e : options_.extensions) {
    const std::string_view p = e.prefix;
    if (p.size() < 2 || p[0] != '/' || p.find('/', 1) != std::string_view::npos || p == "/v2" ||
        !e.handle)
      return Status::InvalidArgument(
          "http: an extension needs a handler and a prefix of one "
          "path segment other than /v2, not '" +
          e.prefix + "'");
  }
  idle_timeout_ = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(options_.idle_timeout_s, 0.01)));

  error_code ec;
  if (!options_.tls_cert_file.empty()) {
    tls_.emplace(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                      ec);
    tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) {
      return Status::InvalidArgument("http: TLS certificate '" + options_.tls_cert_file +
                                     "': " + ec.message());
    }
    tls_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return Status::InvalidArgument("http: TLS key '" + options_.tls_key_file +
                                     "': " + ec.message());
    }
    SN_RETURN_IF_ERROR(HardenTls(tls_->native_handle(), options_.tls_client_ca_file));
  } else if (!options_.tls_client_ca_file.empty()) {
    return Status::InvalidArgument("http: a client CA needs a TLS certificate and key");
  }

  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) return Status::InvalidArgument("http: bad address '" + options_.address + "'");

  for (int i = 0; i < options_.threads; ++i) {
    contexts_.push_back(std::make_unique<net::io_context>(1));
    guards_.push_back(net::make_work_guard(contexts_.back()->get_executor()));
  }
  acceptor_.emplace(contexts_[0]->get_executor());
  accept_retry_.emplace(contexts_[0]->get_executor());
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("http: cannot listen on " + options_.address + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint(ec).port();

  Accept();
  for (auto& ctx : contexts_) {
    threads_.emplace_back([ctx = ctx.get()] {
      for (;;) {
        try {
          ctx->run();
          return;
        } catch (const std::exception& e) {  // a handler threw: log, keep serving
          Log(LogLevel::kError, "http_handler_exception", {{"error", e.what()}});
        }
      }
    });
  }
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  net::io_context& target = *contexts_[next_context_++ % contexts_.size()];
  acceptor_->async_accept(target.get_executor(), [this](error_code ec, Socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
  if (ec) {  // out of descriptors and the like: wait a little rather than spin
    Log(LogLevel::kError, "http_accept_failed", {{"error", ec.message()}});
    accept_retry_->expires_after(std::chrono::milliseconds(100));
    accept_retry_->async_wait([this](error_code wec) {
      if (!wec && acceptor_->is_open()) Accept();
    });
    return;
  }
  error_code ignored;
  bool full;
  {
    std::lock_guard<std::mutex> lock(mu_);
    full = connections_.size() >= options_.max_connections;
  }
  if (full) {
    // Closed at once, before any byte is read or a TLS handshake is spent on it; the clients
    // already connected keep their service. Logged once per burst, not per refusal.
    socket.close(ignored);
    if (!refusing_)
      Log(LogLevel::kWarning, "http_connection_limit",
          {{"port", std::to_string(port_)},
           {"max_connections", std::to_string(options_.max_connections)}});
    refusing_ = true;
    return Accept();
  }
  refusing_ = false;
  socket.set_option(tcp::no_delay(true), ignored);
  if (tls_)
    Adopt<Connection<TlsStream>>(TlsStream(std::move(socket), *tls_));
  else
    Adopt<Connection<Socket>>(std::move(socket));
  Accept();
}

template <class Conn, class Stream>
void HttpServer::Impl::Adopt(Stream stream) {
  auto conn = std::make_shared<Conn>(this, next_id_++, std::move(stream));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // the connection closes as it is destroyed
    connections_.emplace(conn->id(), conn);
  }
  net::post(conn->executor(), [conn] { conn->Run(); });
}

void HttpServer::Impl::Stop(Clock::duration drain) {
  if (stopped_.exchange(true)) return;
  if (threads_.empty()) return;  // Open() failed before serving: nothing runs, nothing to wait for
  std::vector<std::shared_ptr<ConnectionBase>> live;
  auto snapshot = [&] {
    live.clear();
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, weak] : connections_)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  };
  snapshot();

  // Stop accepting (on the acceptor's thread), then wind the connections down.
  if (acceptor_) {
    std::promise<void> closed;
    net::post(contexts_[0]->get_executor(), [&] {
      error_code ignored;
      acceptor_->close(ignored);
      accept_retry_->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  for (auto& c : live) net::post(c->executor(), [c] { c->BeginStop(); });
  live.clear();

  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, drain, [&] { return connections_.empty(); })) {
      lock.unlock();
      snapshot();
      for (auto& c : live) net::post(c->executor(), [c] { c->ForceStop(); });
      live.clear();
      lock.lock();
      // Every queued request is answered (the core's contract), so this ends.
      cv_.wait(lock, [&] { return connections_.empty(); });
    }
  }

  guards_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

// ---- HttpServer ---------------------------------------------------------------------------

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(InferenceServer* core,
                                                      const HttpOptions& options) {
  if (core == nullptr) return Status::InvalidArgument("http: no inference server");
  auto impl = std::make_unique<Impl>(core, options);
  Status s = impl->Open();
  if (!s.ok()) {
    impl->Stop(Clock::duration::zero());
    return s;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  impl_->Stop(std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(impl_->options().drain_timeout_s, 0.0))));
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  impl_->Stop(std::max<Clock::duration>(drain, Clock::duration::zero()));
}

}  // namespace supernova::server
