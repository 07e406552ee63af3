// HttpServer: the KServe v2 REST front end of `supernova serve` (and, in its metrics role, the
// Prometheus port). It translates HTTP requests into InferenceServer calls and holds nothing
// but connections.
//
//   HttpOptions opts;  opts.port = 8000;
//   auto http = HttpServer::Start(core.get(), opts);   // listening when this returns
//   ...                                                 // port(): the bound port
//   core->BeginShutdown();  http.value()->Stop();       // finish in-flight, close, join
//
// Endpoints (inference role), as KServe v2 and Triton publish them, so their clients work:
//   GET  /v2/health/live, /v2/health/ready                   200, or 400 when not (spec: 4xx)
//   GET  /v2                                                  server metadata
//   GET  /v2/models/{m}[/versions/{v}]                        model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready                  200; 400 not ready; 404 unknown
//   GET  /v2/models/{m}[/versions/{v}]/config                 Triton's ModelConfig as JSON
//   POST /v2/models/{m}[/versions/{v}]/infer                  JSON or binary tensor extension
//   GET  /v2/models[/{m}[/versions/{v}]]/stats                Triton's statistics extension
//   POST /v2/repository/index                                 {"ready": bool} optional
//   POST /v2/repository/models/{m}/load                       {"parameters":{"config":"..."}}
//   POST /v2/repository/models/{m}/unload
//   ANY  /v2/models/{m}[/versions/{v}]/{resource}[/...]        a sub-resource of the model's
//        backend (ModelBackend::Resource), e.g. a learned classifier's classes; 404 when the
//        backend has none
// Metrics role: GET /metrics (Prometheus text 0.0.4), public. Anything else: 404.
// HttpOptions::extensions add endpoints under prefixes of their own (the console's /console).
//
// Infer requests refused by the front end (auth, validation, unknown model) count in
// supernova_requests_rejected_total{protocol="http",code="<HTTP status>"}; the model's own
// metrics count the rest.
//
// Auth (InferenceServer::Authorize with the Authorization header): health is public; metadata,
// config, ready, stats, infer and the repository index need the inference token; load, unload
// and a backend's sub-resources the admin token (403 when the server has no token at all).
//
// Status codes. Errors carry {"error": "message"}.
//   400  malformed JSON or HTTP, bad shape / datatype / byte count, unknown input or output
//        name, bad parameters (core kInvalidArgument, kInvalidModel, kOutOfRange,
//        kFailedPrecondition)
//   401  no token (with WWW-Authenticate: Bearer)     403  wrong token
//   404  unknown path, model or version               405  wrong method (with Allow)
//   409  kAlreadyExists                               413  body over max_body_bytes
//   415  a Content-Encoding other than identity       431  headers over 16 KiB or 100 fields
//   500  kInternal                                    501  kUnimplemented
//   503  queue full, shutting down, model unavailable, request cancelled (kUnavailable,
//        kResourceExhausted, kCancelled): retrying later may succeed
//   504  the request's timeout passed in the queue or while running (kDeadlineExceeded):
//        Triton answers this with a 4xx/5xx too; 504 says "the server gave up waiting", which
//        is what happened, and keeps it apart from the client's own mistakes (4xx)
//
// Transport: Boost.Beast over Asio, HTTP/1.1 keep-alive (pipelined requests are answered in
// order), TCP_NODELAY, `threads` I/O threads each running its own io_context; a connection
// lives on one of them, so its handlers never run concurrently. Inference is asynchronous:
// the core's callback (a scheduler thread) posts the response onto the connection's thread.
// While a request is queued, the connection keeps reading: a client that disconnects cancels
// its request (RequestHandle::Cancel), which frees its queue slot.
//
// Thread safety: Start, port and Stop may be called from any thread; Stop is idempotent and
// also runs in the destructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/inference_server.h"
#include "supernova/status.h"

namespace supernova::server {

// Endpoints an executable adds beside the protocol's, under a path prefix of their own (the
// web console, console/console.h). The handler runs on the connection's I/O thread, so it must
// answer quickly and never wait for a model; it checks tokens itself (InferenceServer::
// Authorize), since only it knows which of its paths need which.
struct HttpExtensionRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // the target before any '?', as sent (not percent-decoded)
  std::string query;          // after the '?', as sent
  std::string authorization;  // the Authorization header's value
  std::string body;
};
struct HttpExtensionResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more fields: Cache-Control, ...
};
struct HttpExtension {
  std::string prefix;  // "/console": that path and everything under "/console/"
  std::function<HttpExtensionResponse(const HttpExtensionRequest&)> handle;
};

struct HttpOptions {
  enum class Role { kInference, kMetrics };

  std::string address = "0.0.0.0";
  int port = 8000;  // 0: a free port, see HttpServer::port()
  int threads = 2;  // I/O threads (inference runs on the core's threads, not these)
  size_t max_body_bytes = 64u << 20;
  // Both set: HTTPS only (PEM files; the certificate file may hold a chain).
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: a PEM file of the CAs whose client certificates are accepted; set, a client
  // without such a certificate fails the handshake. TLS is 1.2 (ECDHE with AEAD ciphers) or 1.3.
  std::string tls_client_ca_file;
  Role role = Role::kInference;
  // The inference role's added endpoints, matched before the protocol's (a prefix under /v2 is
  // refused by Start).
  std::vector<HttpExtension> extensions;
  // Open connections at most; one more is closed as soon as it is accepted (each holds
  // buffers, and a TLS one a session), so a flood of idle sockets cannot starve the rest.
  size_t max_connections = 1024;
  // A connection that has not delivered a complete request this long after connecting or
  // after its previous response is closed (idle keep-alive connections, slow clients).
  double idle_timeout_s = 120;
  // Stop() lets requests in flight finish for this long, then cancels those still queued.
  double drain_timeout_s = 30;
};

class HttpServer {
 public:
  // Binds and listens before returning; fails (kInvalidArgument / kUnavailable) on bad options,
  // unreadable TLS files, or an address that cannot be bound. `core` must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Start(InferenceServer* core,
                                                   const HttpOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (options.port, or the one chosen for port 0).
  int port() const;

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets requests in flight
  // finish and answers them (with "Connection: close"), then joins the I/O threads. Requests
  // still queued after drain_timeout_s are cancelled. Returns when every connection is closed.
  void Stop();
  // The same with another drain time: a caller with a deadline of its own (the shutdown's
  // grace) passes what is left of it.
  void Stop(std::chrono::milliseconds drain);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supernova::server
