// The HTTP transport of the KServe v2 front end: Boost.Beast connections, routing, auth and
// the status mapping (http_server.h). The request and response bodies are http_codec.cc's.
// Beast is compiled in this translation unit only.
#include "server/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/http_codec.h"
#include "server/log.h"
#include "server/metrics.h"

namespace supernova::server {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Every I/O object of a connection uses its io_context's executor directly (no type erasure):
// one io_context per I/O thread, so a connection's handlers run on one thread, in order.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;
using TlsStream = beast::ssl_stream<Socket>;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr size_t kHeaderLimit = 16 * 1024;
// How much a connection reads ahead while its request is queued (to notice a disconnect).
constexpr size_t kWatchBytes = 4096;
// After the last response of a connection: how long it keeps reading (and discarding) what
// the client still sends, so that closing does not reset the connection under the response.
constexpr auto kLinger = std::chrono::seconds(3);

std::string_view SV(beast::string_view s) { return {s.data(), s.size()}; }

Response MakeResponse(unsigned status, std::string body, std::string_view content_type) {
  Response res;
  res.result(status);
  if (!content_type.empty())
    res.set(bhttp::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
  res.body() = std::move(body);
  return res;
}

Response JsonResponse(unsigned status, std::string body) {
  return MakeResponse(status, std::move(body), "application/json");
}

Response ErrorResponse(unsigned status, std::string_view message) {
  Response res = JsonResponse(status, http::ErrorJson(message));
  if (status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  return res;
}

Response StatusResponse(const Status& s) {
  return ErrorResponse(static_cast<unsigned>(http::HttpStatusFor(s.code())), s.message());
}

Response EmptyResponse(unsigned status) { return MakeResponse(status, std::string(), {}); }

}  // namespace

namespace {

// What a request turned into: an answer now, or an inference to queue.
struct Routed {
  std::optional<Response> response;
  std::optional<http::ParsedInferRequest> infer;
};

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

}  // namespace

class HttpServer::Impl {
 public:
  Impl(InferenceServer* core, HttpOptions options) : core_(core), options_(std::move(options)) {}

  Status Open();
  void Stop();
  int port() const { return port_; }

  InferenceServer* core() const { return core_; }
  const HttpOptions& options() const { return options_; }
  Clock::duration idle_timeout() const { return idle_timeout_; }

  Routed Route(const Request& req) const;
  // The response to a failed inference. kNotFound means an unknown model or version (404) or
  // an unknown input or output name of a known model (400): the model's metadata tells which.
  Response InferError(const Status& s, const std::string& model, const std::string& version) const;

  void Unregister(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(id);
    cv_.notify_all();  // under the lock: Stop() may destroy *this as soon as it sees zero
  }

 private:
  void Accept();
  void OnAccept(error_code ec, Socket socket);
  template <class Conn, class Stream>
  void Adopt(Stream stream);

  // The refusal when the request lacks the token `access` needs; nullopt when allowed.
  std::optional<Response> Authorize(Access access, const Request& req) const;
  Routed RouteModel(const Request& req, std::string_view model, std::string_view version,
                    std::string_view action) const;
  // Triton's statistics extension for one model (version), or all when `model` is empty.
  Response Statistics(std::string_view model, std::string_view version) const;

  InferenceServer* const core_;
  const HttpOptions options_;
  Clock::duration idle_timeout_{};
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<Executor>> guards_;
  std::vector<std::thread> threads_;
  std::optional<ssl::context> tls_;
  std::optional<Acceptor> acceptor_;   // on contexts_[0]
  std::optional<Timer> accept_retry_;  // on contexts_[0]
  size_t next_context_ = 0;            // contexts_[0]'s thread only
  uint64_t next_id_ = 0;               // contexts_[0]'s thread only
  int port_ = 0;
  std::atomic<bool> stopped_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                                                    // guarded by mu_
  std::unordered_map<uint64_t, std::weak_ptr<ConnectionBase>> connections_;  // guarded by mu_
};

namespace {

LiveToken::~LiveToken() { server_->Unregister(id_); }

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
    const bool request_started = (parser_ && parser_->got_some()) || buffer_.size() > 0;
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

void HttpServer::Impl::Stop() {
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

  const auto drain = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(options_.drain_timeout_s, 0.0)));
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

std::optional<Response> HttpServer::Impl::Authorize(Access access, const Request& req) const {
  Status s = core_->Authorize(access, SV(req[bhttp::field::authorization]));
  if (s.ok()) return std::nullopt;
  return StatusResponse(s);
}

Response HttpServer::Impl::InferError(const Status& s, const std::string& model,
                                      const std::string& version) const {
  if (s.code() != Status::Code::kNotFound) return StatusResponse(s);  // the model counted it
  if (core_->GetModelMetadata(model, version).ok()) return ErrorResponse(400, s.message());
  core_->metrics().RequestRejected("http", 404);  // never reached a model
  return StatusResponse(s);
}

Response HttpServer::Impl::Statistics(std::string_view model, std::string_view version) const {
  std::vector<http::ModelStatsEntry> entries;
  for (RepositoryEntry& e : core_->RepositoryIndex(/*ready_only=*/true)) {
    if (!model.empty() && e.name != model) continue;
    if (!version.empty() && version != "-1" && e.version != version) continue;
    http::ModelStatsEntry entry{std::move(e.name), std::move(e.version), {}};
    entry.counters = core_->metrics().ForModel(entry.name, entry.version)->Read();
    entries.push_back(std::move(entry));
  }
  if (!model.empty() && entries.empty()) {
    // Say why, as the metadata lookup would: unknown model or version, or not ready.
    Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
    if (!m.ok()) return StatusResponse(m.status());
    return ErrorResponse(404, "no statistics for model '" + std::string(model) + "'");
  }
  return JsonResponse(200, http::ModelStatsJson(entries));
}

namespace {

std::vector<std::string_view> SplitPath(std::string_view target) {
  const size_t q = target.find('?');
  if (q != std::string_view::npos) target = target.substr(0, q);
  std::vector<std::string_view> segments;
  if (target.empty() || target[0] != '/') return segments;
  size_t start = 1;
  for (;;) {
    const size_t slash = target.find('/', start);
    segments.push_back(
        target.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

Response MethodNotAllowed(bhttp::verb allowed) {
  Response res =
      ErrorResponse(405, "method not allowed; use " + std::string(SV(bhttp::to_string(allowed))));
  res.set(bhttp::field::allow, bhttp::to_string(allowed));
  return res;
}

Routed Answer(Response res) {
  Routed r;
  r.response = std::move(res);
  return r;
}

Routed NotFoundPath(std::string_view target) {
  return Answer(ErrorResponse(404, "no such endpoint: " + std::string(target)));
}

}  // namespace

Routed HttpServer::Impl::Route(const Request& req) const {
  const std::vector<std::string_view> seg = SplitPath(SV(req.target()));
  const bhttp::verb method = req.method();
  auto expect = [&](bhttp::verb verb, Access access, auto&& handler) -> Routed {
    if (method != verb) return Answer(MethodNotAllowed(verb));
    if (std::optional<Response> denied = Authorize(access, req)) return Answer(std::move(*denied));
    return handler();
  };

  if (options_.role == HttpOptions::Role::kMetrics) {
    if (seg.size() == 1 && seg[0] == "metrics") {
      return expect(bhttp::verb::get, Access::kPublic, [&] {
        return Answer(MakeResponse(200, core_->MetricsText(), "text/plain; version=0.0.4"));
      });
    }
    return NotFoundPath(SV(req.target()));
  }

  if (seg.empty() || seg[0] != "v2") return NotFoundPath(SV(req.target()));
  if (seg.size() == 1) {
    return expect(bhttp::verb::get, Access::kInfer, [&] {
      return Answer(JsonResponse(
          200, http::ServerMetadataJson(core_->Name(), core_->Version(), core_->Extensions())));
    });
  }
  if (seg[1] == "health" && seg.size() == 3 && (seg[2] == "live" || seg[2] == "ready")) {
    const bool live = seg[2] == "live";
    return expect(bhttp::verb::get, Access::kPublic, [&] {
      const bool yes = live ? core_->Live() : core_->Ready();
      return Answer(EmptyResponse(yes ? 200 : 400));
    });
  }
  if (seg[1] == "models" && seg.size() == 3 && seg[2] == "stats") {
    return expect(bhttp::verb::get, Access::kInfer, [&] { return Answer(Statistics("", "")); });
  }
  if (seg[1] == "models" && seg.size() >= 3) {
    std::optional<std::string> model = http::DecodePathSegment(seg[2]);
    if (!model || model->empty()) return Answer(ErrorResponse(400, "malformed model name in URL"));
    size_t next = 3;
    std::optional<std::string> version = std::string();
    if (seg.size() >= 5 && seg[3] == "versions") {
      version = http::DecodePathSegment(seg[4]);
      if (!version || version->empty())
        return Answer(ErrorResponse(400, "malformed model version in URL"));
      next = 5;
    }
    if (seg.size() > next + 1) return NotFoundPath(SV(req.target()));
    const std::string_view action = seg.size() == next + 1 ? seg[next] : std::string_view();
    return RouteModel(req, *model, *version, action);
  }
  if (seg[1] == "repository") {
    if (seg.size() == 3 && seg[2] == "index") {
      return expect(bhttp::verb::post, Access::kInfer, [&] {
        Result<bool> ready_only = http::ParseRepositoryIndexRequest(req.body());
        if (!ready_only.ok()) return Answer(StatusResponse(ready_only.status()));
        return Answer(
            JsonResponse(200, http::RepositoryIndexJson(core_->RepositoryIndex(*ready_only))));
      });
    }
    if (seg.size() == 5 && seg[2] == "models" && (seg[4] == "load" || seg[4] == "unload")) {
      std::optional<std::string> model = http::DecodePathSegment(seg[3]);
      if (!model || model->empty())
        return Answer(ErrorResponse(400, "malformed model name in URL"));
      const bool load = seg[4] == "load";
      return expect(bhttp::verb::post, Access::kAdmin, [&] {
        Status s;
        if (load) {
          Result<std::string> config = http::ParseLoadRequest(req.body());
          s = config.ok() ? core_->LoadModel(*model, *config) : config.status();
        } else {
          s = http::ParseUnloadRequest(req.body());
          if (s.ok()) s = core_->UnloadModel(*model);
        }
        return Answer(s.ok() ? EmptyResponse(200) : StatusResponse(s));
      });
    }
  }
  return NotFoundPath(SV(req.target()));
}

Routed HttpServer::Impl::RouteModel(const Request& req, std::string_view model,
                                    std::string_view version, std::string_view action) const {
  auto expect = [&](bhttp::verb verb, auto&& handler) -> Routed {
    if (req.method() != verb) return Answer(MethodNotAllowed(verb));
    if (std::optional<Response> denied = Authorize(Access::kInfer, req))
      return Answer(std::move(*denied));
    return handler();
  };
  if (action.empty()) {
    return expect(bhttp::verb::get, [&] {
      Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
      if (!m.ok()) return Answer(StatusResponse(m.status()));
      return Answer(JsonResponse(200, http::ModelMetadataJson(*m)));
    });
  }
  if (action == "ready") {
    return expect(bhttp::verb::get, [&] {
      if (core_->ModelReady(model, version)) return Answer(EmptyResponse(200));
      Result<ModelMetadata> m = core_->GetModelMetadata(model, version);
      if (!m.ok() && m.status().code() == Status::Code::kNotFound)
        return Answer(StatusResponse(m.status()));
      return Answer(EmptyResponse(400));
    });
  }
  if (action == "config") {
    return expect(bhttp::verb::get, [&] {
      Result<inference::ModelConfig> config = core_->GetModelConfig(model, version);
      if (!config.ok()) return Answer(StatusResponse(config.status()));
      Result<std::string> text = http::ModelConfigJson(*config);
      if (!text.ok()) return Answer(StatusResponse(text.status()));
      return Answer(JsonResponse(200, std::move(text).value()));
    });
  }
  if (action == "stats")
    return expect(bhttp::verb::get, [&] { return Answer(Statistics(model, version)); });
  if (action == "infer") {
    Routed routed = expect(bhttp::verb::post, [&] {
      const beast::string_view encoding = req[bhttp::field::content_encoding];
      if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
        return Answer(ErrorResponse(415, "Content-Encoding '" + std::string(SV(encoding)) +
                                             "' is not supported; send the body uncompressed"));
      }
      std::optional<uint64_t> header_length;
      auto it = req.find("Inference-Header-Content-Length");
      if (it != req.end()) {
        const std::string_view v = SV(it->value());
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
          return Answer(
              ErrorResponse(400, "Inference-Header-Content-Length must be a non-negative integer"));
        }
        header_length = n;
      }
      Result<http::ParsedInferRequest> parsed = http::ParseInferRequest(
          req.body(), header_length, std::string(model), std::string(version));
      if (!parsed.ok()) return Answer(StatusResponse(parsed.status()));
      Routed r;
      r.infer = std::move(parsed).value();
      return r;
    });
    // Refused here, before any model saw it: counted as the gRPC front end counts its own.
    if (routed.response) core_->metrics().RequestRejected("http", routed.response->result_int());
    return routed;
  }
  return NotFoundPath(SV(req.target()));
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
    impl->Stop();
    return s;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace supernova::server
