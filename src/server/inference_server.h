// InferenceServer: the protocol-neutral core of `supernova serve`. It owns the model repository,
// one scheduler per loaded model version (a bounded queue, the dynamic batcher and the
// instances that run batches), the metrics and the auth tokens. The HTTP and gRPC front ends
// (http_server.h, grpc_server.h) translate the KServe v2 protocol into these calls and back;
// neither holds any state of its own beyond connections.
//
//   ServerOptions opts;
//   opts.model_repository = "models/";
//   auto server = InferenceServer::Create(opts);        // loads every model it finds
//   InferRequest req;  req.model = "add"; req.inputs = {...};
//   server->Infer(std::move(req), [](Status s, InferResponse r) { ... });
//
// Every member is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model_config.pb.h"
#include "server/backend.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::server {

class Metrics;
class ModelMetrics;
class ModelRepository;

// KServe v2 datatype names ("FP32", "INT64", "BOOL", ...) and Triton's config enum.
// BYTES (strings) is not storable in a Tensor: FromV2 returns nullopt for it.
std::string_view DataTypeToV2(DataType dtype);
std::optional<DataType> DataTypeFromV2(std::string_view name);
inference::DataType DataTypeToConfig(DataType dtype);
std::optional<DataType> DataTypeFromConfig(inference::DataType dtype);

struct ServerOptions {
  std::string model_repository;
  // Seconds between scans of the repository for new, changed and removed models; 0: load at
  // start only, then change only through explicit load/unload (Triton's "explicit" mode).
  double poll_interval_s = 0;
  // Triton's "explicit" model control: only startup_models load at start; the rest wait for
  // LoadModel. Otherwise every model in the repository loads at start.
  bool explicit_control = false;
  std::vector<std::string> startup_models;
  // Queue bound of a model whose config sets no max_queue_size (Triton's 0 means unbounded:
  // here it means this default, so no queue grows without limit).
  uint32_t default_max_queue_size = 128;
  // Kernel threads per instance; 0: hardware threads divided by the model's instance count.
  int threads_per_instance = 0;
  // SessionOptions::max_run_bytes of every ONNX model whose config sets no max_run_bytes
  // parameter: the most bytes of tensors one inference may hold; 0: no limit.
  size_t max_run_bytes = 0;
  // Execution providers for the sessions (SessionOptions::providers).
  std::vector<std::string> providers = {"cpu"};
  // Backends for configs whose `platform` is not onnxruntime_onnx, by platform name: the
  // executable registers those it links (supernova-serve: "supernova_split", backend.h).
  std::map<std::string, BackendFactory> backends;
  // Bearer tokens. With neither set, inference needs none and administration (load, unload,
  // a backend's sub-resources) is refused with kPermissionDenied. Otherwise inference takes
  // either token and administration the admin token (or the inference token when no admin
  // token is set): setting only an admin token closes inference to everyone else too.
  // Polling the repository (poll_interval_s) is the server's own action and needs no token.
  std::string infer_token;
  std::string admin_token;
};

// A tensor of a request or a response. The tensor is on the host, shape as sent.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct InferRequest {
  std::string model;
  std::string version;  // "" or "-1": the highest ready version
  std::string id;       // echoed in the response
  std::vector<NamedTensor> inputs;
  // Outputs to return, by name; empty: all of the model's outputs.
  std::vector<std::string> outputs;
  // Microseconds the request may wait in the queue and run before it fails with
  // kDeadlineExceeded; 0: the model's default_timeout_microseconds, if any.
  uint64_t timeout_us = 0;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<NamedTensor> outputs;  // in the order requested (model order when all)
};

// Called exactly once per request, from a scheduler thread or (for a request refused at
// once) from the caller's own thread inside Infer().
using InferCallback = std::function<void(Status, InferResponse)>;

// A request in flight. Cancel() (a client that went away) removes it from the queue at once
// and answers kCancelled; a request already running finishes and its result is dropped.
class RequestHandle {
 public:
  virtual ~RequestHandle() = default;
  virtual void Cancel() = 0;
};

struct ModelTensorMetadata {
  std::string name;
  std::string datatype;        // KServe v2 name
  std::vector<int64_t> shape;  // with the batch dimension (-1) when the model batches
};
struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;  // ready versions, ascending
  std::string platform;               // "onnxruntime_onnx", as Triton names it
  std::vector<ModelTensorMetadata> inputs;
  std::vector<ModelTensorMetadata> outputs;
};

// One row of the repository index (Triton's repository extension).
struct RepositoryEntry {
  std::string name;
  std::string version;  // "" for a model with no loaded version
  std::string state;    // "READY", "UNAVAILABLE", "LOADING", "UNLOADING"
  std::string reason;   // why it is not ready
};

// Which token a request needs (see ServerOptions).
enum class Access { kPublic, kInfer, kAdmin };

class InferenceServer {
 public:
  // Scans the repository and loads the models (all, or startup_models). A model that fails
  // to load is UNAVAILABLE with its reason in the index; the server still starts. Fails only
  // when the repository directory cannot be read.
  static Result<std::unique_ptr<InferenceServer>> Create(const ServerOptions& options);
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  const ServerOptions& options() const;

  // Liveness: the process serves requests. Readiness: not shutting down.
  bool Live() const;
  bool Ready() const;
  std::string_view Name() const { return "supernova"; }
  std::string_view Version() const;
  // Extensions the front ends implement, for the server metadata.
  std::vector<std::string> Extensions() const;

  bool ModelReady(std::string_view model, std::string_view version) const;
  Result<ModelMetadata> GetModelMetadata(std::string_view model, std::string_view version) const;
  Result<inference::ModelConfig> GetModelConfig(std::string_view model,
                                                std::string_view version) const;

  // Where the nodes of a model version run (Session::placement); kNotFound for an unknown or
  // unready model, kUnimplemented for a backend that runs no single Session.
  Result<PlacementReport> GetModelPlacement(std::string_view model, std::string_view version) const;
  // The backend's own state (ModelBackend::StatusJson); "" when it has none.
  Result<std::string> GetModelStatus(std::string_view model, std::string_view version) const;
  // The metrics of the version `version` resolves to ("" or "-1": the highest ready one), with
  // that version's number; kNotFound as GetModelMetadata.
  Result<std::pair<std::string, std::shared_ptr<ModelMetrics>>> GetModelMetrics(
      std::string_view model, std::string_view version) const;
  // How long the server has been up.
  double UptimeSeconds() const;

  // Queues a request. Refusals that need no queue (unknown model, bad input, full queue,
  // shutting down) call `done` before Infer returns and return null.
  std::shared_ptr<RequestHandle> Infer(InferRequest request, InferCallback done);

  // The handler of a model version's sub-resource `resource` (backend.h), holding that version
  // loaded while it lives. kNotFound for an unknown model or version, or a backend without
  // that resource; kUnavailable for a model not ready.
  Result<ResourceHandler> ModelResource(std::string_view model, std::string_view version,
                                        const std::string& resource) const;

  std::vector<RepositoryEntry> RepositoryIndex(bool ready_only) const;
  // Loads (or reloads) a model from the repository, optionally with a config given as JSON
  // (Triton's "config" load parameter) instead of its config.pbtxt. Requests in flight on a
  // replaced version finish on it; new requests go to the new one.
  Status LoadModel(std::string_view model, std::string_view config_json = {});
  // Unloads every version; queued and running requests finish first (in the background).
  Status UnloadModel(std::string_view model);

  // Token check for a request: `authorization` is the header's value ("Bearer <token>").
  // kUnauthenticated without a token, kPermissionDenied with the wrong one, or for kAdmin when
  // the server has no token at all. Takes the same time whatever the token's length and
  // content.
  Status Authorize(Access access, std::string_view authorization) const;

  Metrics& metrics();
  // Prometheus text exposition (version 0.0.4) of every metric.
  std::string MetricsText() const;

  // Graceful shutdown: Ready() turns false and new requests are refused with kUnavailable;
  // queued and running requests finish. WaitIdle returns when none is left or at `timeout`.
  void BeginShutdown();
  bool WaitIdle(std::chrono::milliseconds timeout);

  class Impl;

 private:
  explicit InferenceServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supernova::server
