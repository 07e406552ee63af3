// GrpcServer: the KServe v2 / Triton gRPC front end of `supernova serve`
// (proto/grpc_service.proto, service inference.GRPCInferenceService).
//
//   GrpcOptions opts;  opts.port = 0;                    // 0: the kernel picks a free port
//   auto grpc = GrpcServer::Start(core.get(), opts);     // core: an InferenceServer
//   if (!grpc.ok()) return grpc.status();
//   std::cout << "gRPC on port " << (*grpc)->port() << "\n";
//   ...
//   (*grpc)->Stop(std::chrono::seconds(5));              // refuse new, finish in-flight
//
// The server holds no model state: every RPC is translated into a call on the
// InferenceServer and its answer translated back. ModelInfer uses gRPC's callback API, so a
// request waiting in a model's queue holds no thread; the core's completion callback
// finishes the RPC. A client that cancels (or whose deadline passes) cancels the queued
// request in the core, which frees its queue slot.
//
// Status codes: kInvalidArgument and kInvalidModel → INVALID_ARGUMENT, kNotFound →
// NOT_FOUND, kUnavailable and kResourceExhausted (queue full, shutting down) → UNAVAILABLE,
// kDeadlineExceeded → DEADLINE_EXCEEDED, kCancelled → CANCELLED, kUnauthenticated →
// UNAUTHENTICATED, kPermissionDenied → PERMISSION_DENIED, kUnimplemented → UNIMPLEMENTED,
// kFailedPrecondition → FAILED_PRECONDITION, kOutOfRange → OUT_OF_RANGE, kAlreadyExists →
// ALREADY_EXISTS, anything else → INTERNAL. The message is always the core's message.
//
// Auth: the `authorization` metadata entry ("Bearer <token>") is checked with
// InferenceServer::Authorize: ServerLive and ServerReady are public; metadata, config,
// statistics, ModelReady, ModelInfer and RepositoryIndex need the inference token; load and
// unload need the admin token (PERMISSION_DENIED when the server has no token at all).
//
// Thread safety: port() may be called from any thread; Stop() from one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "supernova/status.h"

namespace supernova::server {

class InferenceServer;

struct GrpcOptions {
  // Interface to listen on ("0.0.0.0", "127.0.0.1", "::"; IPv6 without brackets is fine).
  std::string address = "0.0.0.0";
  // 0: any free port (see GrpcServer::port()).
  int port = 8001;
  // PEM files. Both set: TLS 1.2+ (gRPC's own ECDHE/AEAD cipher list); both empty: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: a PEM file of the CAs whose client certificates are accepted; set, a client must
  // present a certificate one of them signed, or the handshake fails.
  std::string tls_client_ca_file;
  // Largest message received or sent; a bigger request fails with RESOURCE_EXHAUSTED before
  // it reaches the core.
  size_t max_message_bytes = 64u << 20;
  // Largest request metadata (all entries together); a bigger one fails the call before it
  // reaches the core. gRPC's own default, made explicit so that it is a decision.
  size_t max_metadata_bytes = 8u << 10;
};

class GrpcServer {
 public:
  // Binds and starts serving `core`, which must outlive the returned server. Fails
  // (kInvalidArgument) on bad options or unreadable TLS files, or (kUnavailable) when the
  // address cannot be bound.
  static Result<std::unique_ptr<GrpcServer>> Start(InferenceServer* core,
                                                   const GrpcOptions& options);
  // Stops with no grace if Stop() was not called.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The bound port (the chosen one when GrpcOptions::port was 0).
  int port() const;

  // Graceful stop: new RPCs are refused at once; RPCs in flight get up to `grace` to finish,
  // then are cancelled (a cancelled inference is removed from its model's queue). Returns
  // when every RPC has completed. Calling it again does nothing. Does not shut the core down:
  // the owner calls InferenceServer::BeginShutdown, which the other front end shares.
  void Stop(std::chrono::milliseconds grace);

  class Impl;

 private:
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supernova::server
