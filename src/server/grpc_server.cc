// The gRPC front end: KServe v2 messages in, InferenceServer calls, KServe v2 messages out.
#include "server/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "grpc_service.grpc.pb.h"
#include "server/bytes.h"
#include "server/grpc_request.h"
#include "server/inference_server.h"
#include "server/metrics.h"

namespace supernova::server {
namespace {

using Code = Status::Code;

grpc::Status ToGrpc(const Status& s) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (s.code()) {
    case Code::kOk:
      return grpc::Status::OK;
    case Code::kInvalidArgument:
    case Code::kInvalidModel:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case Code::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    // A full queue is a transient condition the client should retry, like shutting down:
    // both are UNAVAILABLE (gRPC's retry policies retry it), as Triton answers.
    case Code::kUnavailable:
    case Code::kResourceExhausted:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case Code::kDeadlineExceeded:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case Code::kCancelled:
      code = grpc::StatusCode::CANCELLED;
      break;
    case Code::kUnauthenticated:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    case Code::kPermissionDenied:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case Code::kUnimplemented:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case Code::kFailedPrecondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case Code::kOutOfRange:
      code = grpc::StatusCode::OUT_OF_RANGE;
      break;
    case Code::kAlreadyExists:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case Code::kInternal:
      code = grpc::StatusCode::INTERNAL;
      break;
  }
  // gRPC sends an empty message for an empty string: always say something.
  return grpc::Status(code, s.message().empty() ? std::string(CodeName(s.code())) : s.message());
}

Status Authorize(const InferenceServer& core, const grpc::CallbackServerContext& ctx,
                 Access access) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("authorization");
  std::string_view value;
  if (it != metadata.end()) value = std::string_view(it->second.data(), it->second.size());
  return core.Authorize(access, value);
}

// ---- Request translation (the message itself: grpc_request.h) ------------------------------

// The microseconds the client's gRPC deadline leaves; 0: it set none.
Result<uint64_t> DeadlineTimeoutUs(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return uint64_t{0};
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::system_clock::now());
  if (left.count() <= 0) return Status(Code::kDeadlineExceeded, "deadline exceeded on arrival");
  return static_cast<uint64_t>(left.count());
}

Result<InferRequest> ToInferRequest(const grpc::CallbackServerContext& ctx,
                                    const inference::ModelInferRequest& req) {
  SN_ASSIGN_OR_RETURN(const uint64_t deadline_us, DeadlineTimeoutUs(ctx));
  return FromModelInferRequest(req, deadline_us);
}

// Outputs travel as raw_output_contents, as Triton sends them: one copy, no per-element work.
void ToModelInferResponse(InferResponse r, inference::ModelInferResponse* resp) {
  resp->set_model_name(std::move(r.model));
  resp->set_model_version(std::move(r.version));
  resp->set_id(std::move(r.id));
  for (NamedTensor& nt : r.outputs) {
    auto* out = resp->add_outputs();
    out->set_name(std::move(nt.name));
    out->set_datatype(std::string(DataTypeToV2(nt.tensor.dtype())));
    for (int64_t d : nt.tensor.shape()) out->add_shape(d);
    std::string* raw = resp->add_raw_output_contents();
    if (nt.tensor.dtype() == DataType::kString)
      AppendEncodedBytes(*raw, nt.tensor);
    else
      raw->assign(static_cast<const char*>(nt.tensor.raw_data()), nt.tensor.nbytes());
  }
}

// ---- ModelInfer --------------------------------------------------------------------------

// Counts the inference reactors alive, so that Stop() can wait for the last one's OnDone.
class ReactorCount {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++n_;
  }
  void Remove() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--n_ == 0) cv_.notify_all();
  }
  void WaitZero() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

// One ModelInfer call. It lives until both gRPC is done with it (OnDone) and Start() has
// returned: the core may answer on a scheduler thread, and gRPC may finish the call, before
// Infer() has even returned the handle that Start() then stores.
class InferReactor final : public grpc::ServerUnaryReactor {
 public:
  InferReactor(InferenceServer* core, ReactorCount* count, grpc::CallbackServerContext* ctx,
               const inference::ModelInferRequest* request, inference::ModelInferResponse* response)
      : core_(core), count_(count), ctx_(ctx), request_(request), response_(response) {
    count_->Add();
  }

  void Start() {
    Status s = Authorize(*core_, *ctx_, Access::kInfer);
    Result<InferRequest> req = s.ok() ? ToInferRequest(*ctx_, *request_) : Result<InferRequest>(s);
    if (!req.ok()) {
      const grpc::Status status = ToGrpc(req.status());
      core_->metrics().RequestRejected("grpc", status.error_code());
      Finish(status);
    } else {
      std::shared_ptr<RequestHandle> handle =
          core_->Infer(std::move(req).value(),
                       [this](Status st, InferResponse r) { Complete(st, std::move(r)); });
      if (handle) {
        bool cancel = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!completed_) {
            handle_ = handle;
            cancel = cancelled_;
          }
        }
        if (cancel) handle->Cancel();  // OnCancel came before there was a handle to cancel
      }
    }
    Unref();
  }

  // The client went away, its deadline passed, or the server is stopping past its grace:
  // take the request out of the queue (the core then answers kCancelled).
  void OnCancel() override {
    std::shared_ptr<RequestHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      handle = handle_;
    }
    if (handle) handle->Cancel();
  }

  void OnDone() override { Unref(); }

 private:
  ~InferReactor() override { count_->Remove(); }

  void Complete(const Status& s, InferResponse r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      completed_ = true;
      handle_.reset();
    }
    if (s.ok()) ToModelInferResponse(std::move(r), response_);
    const grpc::Status status = ToGrpc(s);
    // Only the model lookup answers kNotFound: the request never reached a model, whose
    // metrics count every other failure.
    if (s.code() == Code::kNotFound) core_->metrics().RequestRejected("grpc", status.error_code());
    Finish(status);
  }

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  InferenceServer* const core_;
  ReactorCount* const count_;
  grpc::CallbackServerContext* const ctx_;
  const inference::ModelInferRequest* const request_;
  inference::ModelInferResponse* const response_;
  std::atomic<int> refs_{2};  // gRPC's (until OnDone) and Start()'s

  std::mutex mu_;
  std::shared_ptr<RequestHandle> handle_;  // guarded by mu_; null once completed
  bool cancelled_ = false;                 // guarded by mu_
  bool completed_ = false;                 // guarded by mu_
};

// ---- Admin work off gRPC's threads ---------------------------------------------------------

// Loading a model compiles it: seconds, which must not block the threads that serve every
// other RPC. Loads and unloads run here, one at a time, in arrival order.
class AdminWorker {
 public:
  AdminWorker() : thread_([this] { Loop(); }) {}
  ~AdminWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }

 private:
  // Runs every job posted, also those posted before a stop.
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::thread thread_;
};

// ---- The service ---------------------------------------------------------------------------

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  Service(InferenceServer* core, ReactorCount* reactors, AdminWorker* admin)
      : core_(core), reactors_(reactors), admin_(admin) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx,
                                       const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kPublic);
    if (s.ok()) resp->set_live(core_->Live());
    return Done(ctx, s);
  }

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx,
                                        const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kPublic);
    if (s.ok()) resp->set_ready(core_->Ready());
    return Done(ctx, s);
  }

  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx,
                                       const inference::ModelReadyRequest* req,
                                       inference::ModelReadyResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (s.ok()) resp->set_ready(core_->ModelReady(req->name(), req->version()));
    return Done(ctx, s);
  }

  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx,
                                           const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (s.ok()) {
      resp->set_name(std::string(core_->Name()));
      resp->set_version(std::string(core_->Version()));
      for (std::string& e : core_->Extensions()) resp->add_extensions(std::move(e));
    }
    return Done(ctx, s);
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest* req,
                                          inference::ModelMetadataResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (!s.ok()) return Done(ctx, s);
    Result<supernova::server::ModelMetadata> md =
        core_->GetModelMetadata(req->name(), req->version());
    if (!md.ok()) return Done(ctx, md.status());
    resp->set_name(md->name);
    for (const std::string& v : md->versions) resp->add_versions(v);
    resp->set_platform(md->platform);
    auto add = [](const ModelTensorMetadata& t,
                  inference::ModelMetadataResponse::TensorMetadata* out) {
      out->set_name(t.name);
      out->set_datatype(t.datatype);
      for (int64_t d : t.shape) out->add_shape(d);
    };
    for (const ModelTensorMetadata& t : md->inputs) add(t, resp->add_inputs());
    for (const ModelTensorMetadata& t : md->outputs) add(t, resp->add_outputs());
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* req,
                                       inference::ModelInferResponse* resp) override {
    auto* reactor = new InferReactor(core_, reactors_, ctx, req, resp);
    reactor->Start();
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* ctx,
                                        const inference::ModelConfigRequest* req,
                                        inference::ModelConfigResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (!s.ok()) return Done(ctx, s);
    Result<inference::ModelConfig> config = core_->GetModelConfig(req->name(), req->version());
    if (!config.ok()) return Done(ctx, config.status());
    *resp->mutable_config() = std::move(config).value();
    return Done(ctx, Status::Ok());
  }

  // Triton's statistics extension from the core's counters. Durations the core does not
  // split out (input and output copies) are inside compute_infer; compute_input and
  // compute_output carry the count with zero time.
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest* req,
                                            inference::ModelStatisticsResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (!s.ok()) return Done(ctx, s);
    for (const RepositoryEntry& e : core_->RepositoryIndex(/*ready_only=*/true)) {
      if (!req->name().empty() && e.name != req->name()) continue;
      if (!req->version().empty() && req->version() != "-1" && e.version != req->version())
        continue;
      const ModelMetrics::Counters c = core_->metrics().ForModel(e.name, e.version)->Read();
      auto* m = resp->add_model_stats();
      m->set_name(e.name);
      m->set_version(e.version);
      m->set_inference_count(c.inference_count);
      m->set_execution_count(c.exec_count);
      auto* st = m->mutable_inference_stats();
      auto set = [](inference::StatisticDuration* d, uint64_t count, uint64_t us) {
        d->set_count(count);
        d->set_ns(us * 1000);
      };
      set(st->mutable_success(), c.success, c.request_us);
      set(st->mutable_fail(), c.failure, 0);
      set(st->mutable_queue(), c.success, c.queue_us);
      set(st->mutable_compute_input(), c.success, 0);
      set(st->mutable_compute_infer(), c.success, c.compute_us);
      set(st->mutable_compute_output(), c.success, 0);
    }
    if (!req->name().empty() && resp->model_stats_size() == 0) {
      // Say why, as the metadata lookup would: unknown model, not ready, no such version.
      Result<supernova::server::ModelMetadata> md =
          core_->GetModelMetadata(req->name(), req->version());
      return Done(ctx, md.ok() ? Status::NotFound("no statistics for model '" + req->name() + "'")
                               : md.status());
    }
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* ctx,
                                            const inference::RepositoryIndexRequest* req,
                                            inference::RepositoryIndexResponse* resp) override {
    Status s = Authorize(*core_, *ctx, Access::kInfer);
    if (!s.ok()) return Done(ctx, s);
    for (RepositoryEntry& e : core_->RepositoryIndex(req->ready())) {
      auto* m = resp->add_models();
      m->set_name(std::move(e.name));
      m->set_version(std::move(e.version));
      m->set_state(std::move(e.state));
      m->set_reason(std::move(e.reason));
    }
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* RepositoryModelLoad(grpc::CallbackServerContext* ctx,
                                                const inference::RepositoryModelLoadRequest* req,
                                                inference::RepositoryModelLoadResponse*) override {
    Status s = Authorize(*core_, *ctx, Access::kAdmin);
    if (!s.ok()) return Done(ctx, s);
    std::string config_json;
    for (const auto& [key, value] : req->parameters()) {
      if (key == "config") {
        if (value.parameter_choice_case() != inference::ModelRepositoryParameter::kStringParam)
          return Done(ctx, Status::InvalidArgument("parameter 'config' must be a string (JSON)"));
        config_json = value.string_param();
      } else if (key.rfind("file:", 0) == 0) {
        return Done(ctx, Status::InvalidArgument("parameter '" + key +
                                                 "': model file overrides are not supported"));
      }
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    admin_->Post(
        [core = core_, reactor, model = req->model_name(), config = std::move(config_json)] {
          reactor->Finish(ToGrpc(core->LoadModel(model, config)));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* ctx, const inference::RepositoryModelUnloadRequest* req,
      inference::RepositoryModelUnloadResponse*) override {
    Status s = Authorize(*core_, *ctx, Access::kAdmin);
    if (!s.ok()) return Done(ctx, s);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    admin_->Post([core = core_, reactor, model = req->model_name()] {
      reactor->Finish(ToGrpc(core->UnloadModel(model)));
    });
    return reactor;
  }

 private:
  InferenceServer* const core_;
  ReactorCount* const reactors_;
  AdminWorker* const admin_;
};

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read the TLS " + std::string(what) + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty())
    return Status::InvalidArgument("the TLS " + std::string(what) + " " + path + " is empty");
  return ss.str();
}

}  // namespace

class GrpcServer::Impl {
 public:
  explicit Impl(InferenceServer* core) : service_(core, &reactors_, admin_.get()) {}

  // Destruction order matters: the server (which calls into the service) goes first, then
  // the service, then the admin worker the service posts to.
  ~Impl() = default;

  std::unique_ptr<AdminWorker> admin_ = std::make_unique<AdminWorker>();
  ReactorCount reactors_;
  Service service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::once_flag stopped_;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Stop(std::chrono::milliseconds(0)); }

int GrpcServer::port() const { return impl_->port_; }

Result<std::unique_ptr<GrpcServer>> GrpcServer::Start(InferenceServer* core,
                                                      const GrpcOptions& options) {
  if (core == nullptr) return Status::InvalidArgument("GrpcServer needs an InferenceServer");
  if (options.port < 0 || options.port > 65535)
    return Status::InvalidArgument("gRPC port " + std::to_string(options.port) +
                                   " is not a port number");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Status::InvalidArgument("TLS needs both a certificate and a key file");

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (!options.tls_cert_file.empty()) {
    SN_ASSIGN_OR_RETURN(std::string cert, ReadFile(options.tls_cert_file, "certificate"));
    SN_ASSIGN_OR_RETURN(std::string key, ReadFile(options.tls_key_file, "key"));
    // gRPC's TLS is 1.2 at least with ECDHE and AEAD ciphers by default (its own cipher
    // list, GRPC_SSL_CIPHER_SUITES), as the tests check.
    grpc::SslServerCredentialsOptions ssl(
        options.tls_client_ca_file.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    if (!options.tls_client_ca_file.empty()) {
      SN_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.tls_client_ca_file, "client CA"));
    }
    ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
    credentials = grpc::SslServerCredentials(ssl);
  } else if (!options.tls_client_ca_file.empty()) {
    return Status::InvalidArgument("a client CA needs a TLS certificate and key");
  } else {
    credentials = grpc::InsecureServerCredentials();
  }

  std::string host = options.address.empty() ? "0.0.0.0" : options.address;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  const std::string target = host + ":" + std::to_string(options.port);

  auto impl = std::make_unique<Impl>(core);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(target, credentials, &impl->port_);
  const int max_bytes =
      static_cast<int>(std::min<size_t>(options.max_message_bytes, static_cast<size_t>(INT_MAX)));
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  // Request metadata (headers) is bounded as HTTP's headers are.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_METADATA_SIZE,
      static_cast<int>(std::min<size_t>(options.max_metadata_bytes, static_cast<size_t>(INT_MAX))));
  // Without this gRPC sets SO_REUSEPORT, and a second server on a busy port would "succeed".
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&impl->service_);
  impl->server_ = builder.BuildAndStart();
  if (!impl->server_ || impl->port_ == 0)
    return Status::Unavailable("cannot listen for gRPC on " + target);
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

void GrpcServer::Stop(std::chrono::milliseconds grace) {
  std::call_once(impl_->stopped_, [&] {
    // Refuses new calls at once; after the deadline, cancels those still running, whose
    // OnCancel takes them out of the core's queues.
    impl_->server_->Shutdown(std::chrono::system_clock::now() + grace);
    impl_->reactors_.WaitZero();
    impl_->admin_.reset();  // runs any load still posted, then joins
  });
}

}  // namespace supernova::server
