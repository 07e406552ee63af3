// Inside the HTTP front end: what the connections (http_server.cc) and the routes
// (http_routes.cc) share: Beast's types, the responses both build, and HttpServer::Impl, whose
// transport half lives in the one file and whose routing half in the other. Not part of the
// server's API; include http_server.h instead.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/http_codec.h"
#include "server/http_server.h"

namespace supernova::server {

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

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// The responses (http_routes.cc). Errors carry {"error": "message"}; a 401 also the challenge.
Response MakeResponse(unsigned status, std::string body, std::string_view content_type);
Response JsonResponse(unsigned status, std::string body);
Response ErrorResponse(unsigned status, std::string_view message);
Response StatusResponse(const Status& s);
Response EmptyResponse(unsigned status);

// What a request turned into: an answer now, or an inference to queue.
struct Routed {
  std::optional<Response> response;
  std::optional<http::ParsedInferRequest> infer;
};

// A live connection (http_server.cc).
class ConnectionBase;

class HttpServer::Impl {
 public:
  Impl(InferenceServer* core, HttpOptions options) : core_(core), options_(std::move(options)) {}

  Status Open();
  void Stop(Clock::duration drain);
  int port() const { return port_; }

  InferenceServer* core() const { return core_; }
  const HttpOptions& options() const { return options_; }
  Clock::duration idle_timeout() const { return idle_timeout_; }

  // Routing (http_routes.cc).
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
  // A sub-resource of a model's backend (backend.h): `rest` is the path after its name.
  Routed RouteResource(const Request& req, std::string_view model, std::string_view version,
                       std::string_view resource, const std::vector<std::string_view>& rest) const;
  // An endpoint of HttpOptions::extensions.
  Routed RouteExtension(const Request& req, const HttpExtension& extension) const;
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
  bool refusing_ = false;              // contexts_[0]'s thread only: at max_connections
  int port_ = 0;
  std::atomic<bool> stopped_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                                                    // guarded by mu_
  std::unordered_map<uint64_t, std::weak_ptr<ConnectionBase>> connections_;  // guarded by mu_
};

}  // namespace supernova::server
