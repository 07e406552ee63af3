// The gRPC front end end to end: a real InferenceServer on a temporary repository, a real
// GrpcServer on 127.0.0.1 (port 0), and the stub generated from proto/grpc_service.proto.
// Slow cases use identity-chain models (exact answers, as slow as the test needs) and assert
// what happens, never how fast.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc_service.grpc.pb.h"
#include "server/grpc_server.h"
#include "server/inference_server.h"
#include "server/test_repository.h"

namespace supernova::server {
namespace {

namespace fs = std::filesystem;
using inference::GRPCInferenceService;
using inference::ModelInferRequest;
using inference::ModelInferResponse;

constexpr int kSimpleWidth = 16;

// ---- Requests and answers ------------------------------------------------------------------

// Deterministic INT32 rows for `simple`: INPUT0[r][i] = 100 r + i + seed, INPUT1 = 3 i - r.
std::vector<int32_t> Input0(int batch, int seed) {
  std::vector<int32_t> v;
  for (int r = 0; r < batch; ++r)
    for (int i = 0; i < kSimpleWidth; ++i) v.push_back(100 * r + i + seed);
  return v;
}
std::vector<int32_t> Input1(int batch) {
  std::vector<int32_t> v;
  for (int r = 0; r < batch; ++r)
    for (int i = 0; i < kSimpleWidth; ++i) v.push_back(3 * i - r);
  return v;
}

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

void AddInput(ModelInferRequest* req, const std::string& name, const std::string& datatype,
              std::vector<int64_t> shape) {
  auto* in = req->add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
}

// `simple` with raw contents (typed: int_contents instead).
ModelInferRequest SimpleRequest(int batch = 1, int seed = 0, bool typed = false) {
  ModelInferRequest req;
  req.set_model_name("simple");
  req.set_id("req-" + std::to_string(seed));
  const std::vector<int32_t> a = Input0(batch, seed), b = Input1(batch);
  AddInput(&req, "INPUT0", "INT32", {batch, kSimpleWidth});
  AddInput(&req, "INPUT1", "INT32", {batch, kSimpleWidth});
  if (typed) {
    for (int32_t x : a) req.mutable_inputs(0)->mutable_contents()->add_int_contents(x);
    for (int32_t x : b) req.mutable_inputs(1)->mutable_contents()->add_int_contents(x);
  } else {
    req.add_raw_input_contents(Bytes(a));
    req.add_raw_input_contents(Bytes(b));
  }
  return req;
}

template <typename T>
std::vector<T> FromBytes(const std::string& s) {
  std::vector<T> v(s.size() / sizeof(T));
  std::memcpy(v.data(), s.data(), v.size() * sizeof(T));
  return v;
}

// The response to SimpleRequest(batch, seed): OUTPUT0 = sum, OUTPUT1 = difference, exact.
void ExpectSimpleAnswer(const ModelInferResponse& resp, int batch, int seed,
                        std::vector<std::string> names = {"OUTPUT0", "OUTPUT1"}) {
  EXPECT_EQ(resp.model_name(), "simple");
  EXPECT_EQ(resp.model_version(), "1");
  EXPECT_EQ(resp.id(), "req-" + std::to_string(seed));
  ASSERT_EQ(resp.outputs_size(), static_cast<int>(names.size()));
  ASSERT_EQ(resp.raw_output_contents_size(), resp.outputs_size());
  const std::vector<int32_t> a = Input0(batch, seed), b = Input1(batch);
  for (int o = 0; o < resp.outputs_size(); ++o) {
    const auto& out = resp.outputs(o);
    EXPECT_EQ(out.name(), names[static_cast<size_t>(o)]);
    EXPECT_EQ(out.datatype(), "INT32");
    EXPECT_EQ(std::vector<int64_t>(out.shape().begin(), out.shape().end()),
              (std::vector<int64_t>{batch, kSimpleWidth}));
    const std::vector<int32_t> got = FromBytes<int32_t>(resp.raw_output_contents(o));
    ASSERT_EQ(got.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(got[i], out.name() == "OUTPUT0" ? a[i] + b[i] : a[i] - b[i])
          << out.name() << " element " << i;
  }
}

// Rows for the identity chains: row r, column i holds seed + r + i / 1024 (exact in float).
ModelInferRequest ChainRequest(const std::string& model, int64_t rows, int64_t width, float seed) {
  ModelInferRequest req;
  req.set_model_name(model);
  AddInput(&req, "x", "FP32", {rows, width});
  std::vector<float> x(static_cast<size_t>(rows * width));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < width; ++i)
      x[static_cast<size_t>(r * width + i)] =
          seed + static_cast<float>(r) + static_cast<float>(i) / 1024.0f;
  req.add_raw_input_contents(Bytes(x));
  return req;
}

// y == x, bit for bit.
void ExpectIdentity(const ModelInferRequest& req, const ModelInferResponse& resp) {
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "y");
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  EXPECT_EQ(FromBytes<float>(resp.raw_output_contents(0)),
            FromBytes<float>(req.raw_input_contents(0)));
}

std::string ChainConfig(const std::string& name, int64_t width, const std::string& extra) {
  std::ostringstream c;
  c << "name: \"" << name << "\"\n"
    << "platform: \"onnxruntime_onnx\"\n"
    << "max_batch_size: 8\n"
    << "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ " << width << " ] } ]\n"
    << "output [ { name: \"y\" data_type: TYPE_FP32 dims: [ " << width << " ] } ]\n"
    << "instance_group [ { count: 1 kind: KIND_CPU } ]\n"
    << extra;
  return c.str();
}

// A ModelInfer in flight on the callback stub; Wait() before it goes out of scope.
class AsyncInfer {
 public:
  AsyncInfer(GRPCInferenceService::Stub* stub, ModelInferRequest req) : req_(std::move(req)) {
    stub->async()->ModelInfer(&ctx_, &req_, &resp_, [this](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = std::move(s);
      done_ = true;
      cv_.notify_all();
    });
  }
  ~AsyncInfer() { Wait(); }

  grpc::ClientContext& context() { return ctx_; }
  const ModelInferRequest& request() const { return req_; }
  const ModelInferResponse& response() const { return resp_; }
  // True when done within `wait` (a way to let the server act, not a timing assertion).
  bool DoneWithin(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, wait, [&] { return done_; });
  }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  grpc::Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  ModelInferRequest req_;
  ModelInferResponse resp_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

std::string CodeText(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

// The value of one series in the core's Prometheus text, e.g.
// `nv_inference_count{model="slow",version="1"}`; -1 when absent.
double Metric(const InferenceServer& core, const std::string& series) {
  std::istringstream text(core.MetricsText());
  for (std::string line; std::getline(text, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

std::string Series(const std::string& name, const std::string& model,
                   const std::string& extra = "") {
  return name + "{model=\"" + model + "\",version=\"1\"" + extra + "}";
}

// Polls until `pred` holds (the server acts on its own threads); fails after a minute, which
// only a broken server needs.
template <typename Pred>
void WaitUntil(Pred pred, const std::string& what) {
  for (int i = 0; i < 6000; ++i) {
    if (pred()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "gave up waiting for " << what;
}

// ---- Fixture -------------------------------------------------------------------------------

class GrpcTest : public ::testing::Test {
 protected:
  void Start(ServerOptions opts = {}, GrpcOptions gopts = {}) {
    opts.model_repository = repo_.path();
    auto core = InferenceServer::Create(opts);
    ASSERT_TRUE(core.ok()) << core.status().ToString();
    core_ = std::move(core).value();
    gopts.address = "127.0.0.1";
    gopts.port = 0;
    auto grpc = GrpcServer::Start(core_.get(), gopts);
    ASSERT_TRUE(grpc.ok()) << grpc.status().ToString();
    grpc_ = std::move(grpc).value();
    ASSERT_GT(grpc_->port(), 0);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(Target(), grpc::InsecureChannelCredentials(), args);
    stub_ = GRPCInferenceService::NewStub(channel_);
  }

  void TearDown() override {
    if (grpc_) grpc_->Stop(std::chrono::seconds(0));
    if (core_) {
      core_->BeginShutdown();
      core_->WaitIdle(std::chrono::seconds(60));
    }
  }

  std::string Target() const { return "127.0.0.1:" + std::to_string(grpc_->port()); }

  // A context with a generous deadline, so that a hung server fails the test instead of
  // hanging it, and an optional bearer token.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  grpc::Status Infer(const ModelInferRequest& req, ModelInferResponse* resp,
                     const std::string& token = "") {
    return stub_->ModelInfer(Ctx(token).get(), req, resp);
  }

  // `simple` answers a good request correctly: what every bad request must leave intact.
  void ExpectSimpleWorks(int seed = 7) {
    ModelInferResponse resp;
    grpc::Status s = Infer(SimpleRequest(2, seed), &resp);
    ASSERT_TRUE(s.ok()) << CodeText(s);
    ExpectSimpleAnswer(resp, 2, seed);
  }

  testing::TempRepository repo_;
  std::unique_ptr<InferenceServer> core_;
  std::unique_ptr<GrpcServer> grpc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<GRPCInferenceService::Stub> stub_;
};

// ---- Health, metadata, config, repository --------------------------------------------------

TEST_F(GrpcTest, ServerLiveAndReady) {
  repo_.AddBundled("simple");
  Start();
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(Ctx().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(Ctx().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready());

  // Shutting the core down turns readiness off while the process stays live.
  core_->BeginShutdown();
  ASSERT_TRUE(stub_->ServerReady(Ctx().get(), {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
  ASSERT_TRUE(stub_->ServerLive(Ctx().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
}

TEST_F(GrpcTest, ServerMetadata) {
  Start();
  inference::ServerMetadataResponse md;
  grpc::Status s = stub_->ServerMetadata(Ctx().get(), {}, &md);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  EXPECT_EQ(md.name(), "supernova");
  EXPECT_FALSE(md.version().empty());
  EXPECT_EQ(md.extensions_size(), static_cast<int>(core_->Extensions().size()));
}

TEST_F(GrpcTest, ModelReady) {
  repo_.AddBundled("simple");
  Start();
  inference::ModelReadyRequest req;
  inference::ModelReadyResponse resp;
  req.set_name("simple");
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), req, &resp).ok());
  EXPECT_TRUE(resp.ready());
  req.set_version("1");
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), req, &resp).ok());
  EXPECT_TRUE(resp.ready());
  req.set_version("2");
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), req, &resp).ok());
  EXPECT_FALSE(resp.ready());
  req.set_name("nonexistent");
  req.clear_version();
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), req, &resp).ok());
  EXPECT_FALSE(resp.ready());
}

TEST_F(GrpcTest, ModelMetadata) {
  repo_.AddBundled("simple");
  Start();
  inference::ModelMetadataRequest req;
  req.set_name("simple");
  inference::ModelMetadataResponse md;
  grpc::Status s = stub_->ModelMetadata(Ctx().get(), req, &md);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  EXPECT_EQ(md.name(), "simple");
  EXPECT_EQ(std::vector<std::string>(md.versions().begin(), md.versions().end()),
            std::vector<std::string>{"1"});
  EXPECT_EQ(md.platform(), "onnxruntime_onnx");
  ASSERT_EQ(md.inputs_size(), 2);
  ASSERT_EQ(md.outputs_size(), 2);
  for (const auto* tensors : {&md.inputs(), &md.outputs()}) {
    for (const auto& t : *tensors) {
      EXPECT_EQ(t.datatype(), "INT32") << t.name();
      EXPECT_EQ(std::vector<int64_t>(t.shape().begin(), t.shape().end()),
                (std::vector<int64_t>{-1, kSimpleWidth}))
          << t.name();
    }
  }
  EXPECT_EQ(md.inputs(0).name(), "INPUT0");
  EXPECT_EQ(md.inputs(1).name(), "INPUT1");
  EXPECT_EQ(md.outputs(0).name(), "OUTPUT0");
  EXPECT_EQ(md.outputs(1).name(), "OUTPUT1");

  req.set_name("nonexistent");
  s = stub_->ModelMetadata(Ctx().get(), req, &md);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << CodeText(s);
  EXPECT_FALSE(s.error_message().empty());
}

TEST_F(GrpcTest, ModelConfig) {
  repo_.AddBundled("simple");
  Start();
  inference::ModelConfigRequest req;
  req.set_name("simple");
  inference::ModelConfigResponse resp;
  grpc::Status s = stub_->ModelConfig(Ctx().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  const inference::ModelConfig& c = resp.config();
  EXPECT_EQ(c.name(), "simple");
  EXPECT_EQ(c.max_batch_size(), 8);
  ASSERT_EQ(c.input_size(), 2);
  EXPECT_EQ(c.input(0).name(), "INPUT0");
  EXPECT_EQ(c.input(0).data_type(), inference::TYPE_INT32);
  ASSERT_EQ(c.output_size(), 2);
  EXPECT_EQ(c.output(1).name(), "OUTPUT1");

  req.set_name("nonexistent");
  s = stub_->ModelConfig(Ctx().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << CodeText(s);
}

TEST_F(GrpcTest, ModelStatistics) {
  repo_.AddBundled("simple");
  Start();
  for (int batch : {1, 2, 3}) {
    ModelInferResponse resp;
    ASSERT_TRUE(Infer(SimpleRequest(batch, batch), &resp).ok());
  }
  ModelInferResponse resp;
  ModelInferRequest bad = SimpleRequest();
  bad.mutable_inputs(0)->set_shape(1, 15);
  bad.mutable_raw_input_contents(0)->resize(15 * 4);
  ASSERT_EQ(Infer(bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  inference::ModelStatisticsRequest req;
  req.set_name("simple");
  inference::ModelStatisticsResponse stats;
  grpc::Status s = stub_->ModelStatistics(Ctx().get(), req, &stats);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ASSERT_EQ(stats.model_stats_size(), 1);
  const inference::ModelStatistics& m = stats.model_stats(0);
  EXPECT_EQ(m.name(), "simple");
  EXPECT_EQ(m.version(), "1");
  EXPECT_EQ(m.inference_count(), 6u);  // rows: 1 + 2 + 3
  EXPECT_GE(m.execution_count(), 1u);
  EXPECT_LE(m.execution_count(), 3u);
  EXPECT_EQ(m.inference_stats().success().count(), 3u);
  EXPECT_GT(m.inference_stats().success().ns(), 0u);
  EXPECT_EQ(m.inference_stats().fail().count(), 1u);
  EXPECT_EQ(m.inference_stats().queue().count(), 3u);
  EXPECT_EQ(m.inference_stats().compute_infer().count(), 3u);

  // All models, and the errors of a lookup.
  ASSERT_TRUE(stub_->ModelStatistics(Ctx().get(), {}, &stats).ok());
  EXPECT_EQ(stats.model_stats_size(), 1);
  req.set_version("2");
  EXPECT_EQ(stub_->ModelStatistics(Ctx().get(), req, &stats).error_code(),
            grpc::StatusCode::NOT_FOUND);
  req.set_name("nonexistent");
  req.clear_version();
  EXPECT_EQ(stub_->ModelStatistics(Ctx().get(), req, &stats).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTest, RepositoryIndexLoadUnload) {
  repo_.AddBundled("simple");
  Start();
  auto index = [&](bool ready_only) {
    inference::RepositoryIndexRequest req;
    req.set_ready(ready_only);
    inference::RepositoryIndexResponse resp;
    grpc::Status s = stub_->RepositoryIndex(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << CodeText(s);
    return resp;
  };
  auto all = index(false);
  ASSERT_EQ(all.models_size(), 1);
  EXPECT_EQ(all.models(0).name(), "simple");
  EXPECT_EQ(all.models(0).version(), "1");
  EXPECT_EQ(all.models(0).state(), "READY");

  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("simple");
  inference::RepositoryModelUnloadResponse unload_resp;
  grpc::Status s = stub_->RepositoryModelUnload(Ctx().get(), unload, &unload_resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  inference::ModelReadyRequest ready_req;
  ready_req.set_name("simple");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), ready_req, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_EQ(index(true).models_size(), 0);
  ModelInferResponse resp;
  s = Infer(SimpleRequest(), &resp);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << CodeText(s);

  inference::RepositoryModelLoadRequest load;
  load.set_model_name("simple");
  inference::RepositoryModelLoadResponse load_resp;
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ASSERT_TRUE(stub_->ModelReady(Ctx().get(), ready_req, &ready).ok());
  EXPECT_TRUE(ready.ready());
  ExpectSimpleWorks();

  load.set_model_name("nonexistent");
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.error_message().empty());
  ExpectSimpleWorks();
}

// ---- Inference -----------------------------------------------------------------------------

TEST_F(GrpcTest, InferRawContents) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(1, 5), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 5);
}

TEST_F(GrpcTest, InferTypedContents) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(1, 11, /*typed=*/true), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 11);
}

TEST_F(GrpcTest, InferBatchOfThreeInOneRequest) {
  repo_.AddBundled("simple");
  Start();
  ModelInferResponse resp;
  grpc::Status s = Infer(SimpleRequest(3, 1000), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 3, 1000);
  s = Infer(SimpleRequest(3, 2000, /*typed=*/true), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 3, 2000);
}

TEST_F(GrpcTest, InferRequestedOutputsOnly) {
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest req = SimpleRequest(2, 3);
  req.add_outputs()->set_name("OUTPUT1");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 2, 3, {"OUTPUT1"});
}

TEST_F(GrpcTest, InferSpecificVersion) {
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest req = SimpleRequest(1, 4);
  req.set_model_version("1");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 4);
}

TEST_F(GrpcTest, ConcurrentCallersAllExact) {
  repo_.AddBundled("simple");
  Start();
  constexpr int kThreads = 8, kEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int seed = 1000 * t + i, batch = 1 + (i % 3);
        ModelInferResponse resp;
        grpc::Status s = Infer(SimpleRequest(batch, seed), &resp);
        EXPECT_TRUE(s.ok()) << CodeText(s);
        if (!s.ok()) continue;
        ExpectSimpleAnswer(resp, batch, seed);
        ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
}

// Every malformed request gets a clear error of the right code, and changes nothing: the next
// good request is answered correctly.
TEST_F(GrpcTest, BadRequestsFailCleanlyAndChangeNothing) {
  repo_.AddBundled("simple");
  Start();
  struct Case {
    std::string what;
    ModelInferRequest req;
    grpc::StatusCode code;
  };
  std::vector<Case> cases;
  {
    ModelInferRequest r = SimpleRequest();
    r.set_model_name("nonexistent");
    cases.push_back({"unknown model", r, grpc::StatusCode::NOT_FOUND});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.set_model_version("7");
    cases.push_back({"unknown version", r, grpc::StatusCode::NOT_FOUND});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(0)->set_datatype("FP32");  // same byte count, wrong type
    cases.push_back({"wrong datatype", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(0)->set_datatype("FLOAT");
    cases.push_back({"unknown datatype", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r;
    r.set_model_name("simple");
    AddInput(&r, "INPUT0", "INT32", {1, 15});
    AddInput(&r, "INPUT1", "INT32", {1, 15});
    r.add_raw_input_contents(std::string(15 * 4, '\0'));
    r.add_raw_input_contents(std::string(15 * 4, '\0'));
    cases.push_back({"wrong shape", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(9);  // max_batch_size is 8
    cases.push_back({"batch too large", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_shape(0, -1);
    cases.push_back({"negative dim", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents(1)->pop_back();
    cases.push_back({"raw byte count one short", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents(0)->append(4, '\0');
    cases.push_back({"raw byte count one element long", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_raw_input_contents()->RemoveLast();
    cases.push_back({"raw contents for one input of two", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.mutable_inputs(0)->mutable_contents()->add_int_contents(1);
    cases.push_back({"typed element count", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.mutable_inputs(0)->clear_contents();
    cases.push_back({"input without data", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest(1, 0, /*typed=*/true);
    r.add_raw_input_contents(Bytes(Input0(1, 0)));
    r.add_raw_input_contents(Bytes(Input1(1)));
    cases.push_back({"both raw and typed", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.add_outputs()->set_name("OUTPUT7");
    cases.push_back({"unknown requested output", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs()->RemoveLast();
    r.mutable_raw_input_contents()->RemoveLast();
    cases.push_back({"missing input", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_name("INPUT9");
    cases.push_back({"unknown input", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    r.mutable_inputs(1)->set_name("INPUT0");
    cases.push_back({"input given twice", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  {
    ModelInferRequest r = SimpleRequest();
    (*r.mutable_parameters())["timeout"].set_string_param("soon");
    cases.push_back({"timeout not an integer", r, grpc::StatusCode::INVALID_ARGUMENT});
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    ModelInferResponse resp;
    grpc::Status s = Infer(cases[i].req, &resp);
    EXPECT_EQ(s.error_code(), cases[i].code) << CodeText(s);
    EXPECT_FALSE(s.error_message().empty());
    ExpectSimpleWorks(static_cast<int>(i));
  }
  // Refusals before any model (unknown model or version; malformed requests) are counted
  // under the gRPC code they got.
  EXPECT_EQ(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"5\"}"), 2);
  EXPECT_GE(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"3\"}"), 1);
}

TEST_F(GrpcTest, TypedContentsOutOfRangeForNarrowType) {
  // An INT8 input whose int_contents value does not fit is refused, not wrapped around. Any
  // model will do: the request fails before it reaches one.
  repo_.AddBundled("simple");
  Start();
  ModelInferRequest r;
  r.set_model_name("simple");
  AddInput(&r, "INPUT0", "INT8", {1});
  r.mutable_inputs(0)->mutable_contents()->add_int_contents(300);
  ModelInferResponse resp;
  grpc::Status s = Infer(r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << CodeText(s);
  EXPECT_NE(s.error_message().find("300"), std::string::npos) << s.error_message();
  ExpectSimpleWorks();
}

// ---- Auth ----------------------------------------------------------------------------------

TEST_F(GrpcTest, AuthTokens) {
  repo_.AddBundled("simple");
  ServerOptions opts;
  opts.infer_token = "infer-secret";
  opts.admin_token = "admin-secret";
  Start(opts);
  ModelInferResponse resp;

  // Health needs no token.
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(Ctx().get(), {}, &live).ok());
  inference::ServerReadyResponse ready;
  EXPECT_TRUE(stub_->ServerReady(Ctx().get(), {}, &ready).ok());

  // Inference: none, wrong, right, admin.
  grpc::Status s = Infer(SimpleRequest(1, 1), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << CodeText(s);
  EXPECT_EQ(Metric(*core_, "supernova_requests_rejected_total{protocol=\"grpc\",code=\"16\"}"), 1);
  s = Infer(SimpleRequest(1, 1), &resp, "wrong");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  s = Infer(SimpleRequest(1, 1), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 1);
  s = Infer(SimpleRequest(1, 2), &resp, "admin-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 2);

  // Metadata, config, readiness and the index are inference-class.
  inference::ModelMetadataRequest mreq;
  mreq.set_name("simple");
  inference::ModelMetadataResponse md;
  EXPECT_EQ(stub_->ModelMetadata(Ctx().get(), mreq, &md).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->ModelMetadata(Ctx("infer-secret").get(), mreq, &md).ok());
  inference::ModelConfigRequest creq;
  creq.set_name("simple");
  inference::ModelConfigResponse config;
  EXPECT_EQ(stub_->ModelConfig(Ctx("wrong").get(), creq, &config).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->ModelConfig(Ctx("infer-secret").get(), creq, &config).ok());
  inference::ModelReadyRequest rreq;
  rreq.set_name("simple");
  inference::ModelReadyResponse mready;
  EXPECT_EQ(stub_->ModelReady(Ctx().get(), rreq, &mready).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  inference::RepositoryIndexResponse index;
  EXPECT_EQ(stub_->RepositoryIndex(Ctx().get(), {}, &index).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->RepositoryIndex(Ctx("infer-secret").get(), {}, &index).ok());
  inference::ServerMetadataResponse smd;
  EXPECT_EQ(stub_->ServerMetadata(Ctx().get(), {}, &smd).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Load and unload are admin-class: the inference token is not enough.
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("simple");
  inference::RepositoryModelLoadResponse load_resp;
  s = stub_->RepositoryModelLoad(Ctx().get(), load, &load_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << CodeText(s);
  s = stub_->RepositoryModelLoad(Ctx("infer-secret").get(), load, &load_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("simple");
  inference::RepositoryModelUnloadResponse unload_resp;
  s = stub_->RepositoryModelUnload(Ctx("infer-secret").get(), unload, &unload_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << CodeText(s);
  // The refused unload changed nothing.
  s = Infer(SimpleRequest(1, 3), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 3);

  s = stub_->RepositoryModelLoad(Ctx("admin-secret").get(), load, &load_resp);
  EXPECT_TRUE(s.ok()) << CodeText(s);
  s = Infer(SimpleRequest(1, 4), &resp, "infer-secret");
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 1, 4);
}

// ---- TLS -----------------------------------------------------------------------------------

TEST_F(GrpcTest, TlsWithSelfSignedCertificate) {
  repo_.AddBundled("simple");
  const fs::path dir = fs::path(repo_.path()) / "tls";
  fs::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  // openssl comes with scripts/setup.sh, so a machine without it fails here.
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate: " << cmd;
  GrpcOptions gopts;
  gopts.tls_cert_file = cert;
  gopts.tls_key_file = key;
  Start({}, gopts);

  std::ifstream in(cert);
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  auto tls_stub =
      GRPCInferenceService::NewStub(grpc::CreateChannel(Target(), grpc::SslCredentials(ssl)));
  ModelInferResponse resp;
  grpc::Status s = tls_stub->ModelInfer(Ctx().get(), SimpleRequest(2, 9), &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectSimpleAnswer(resp, 2, 9);

  // A plaintext client gets no answer from a TLS port.
  auto ctx = Ctx();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  s = stub_->ModelInfer(ctx.get(), SimpleRequest(), &resp);
  EXPECT_FALSE(s.ok());
}

TEST_F(GrpcTest, StartFailsCleanly) {
  repo_.AddBundled("simple");
  Start();
  GrpcOptions busy;
  busy.address = "127.0.0.1";
  busy.port = grpc_->port();
  auto second = GrpcServer::Start(core_.get(), busy);
  EXPECT_FALSE(second.ok());

  GrpcOptions half_tls;
  half_tls.port = 0;
  half_tls.tls_cert_file = "/nonexistent/cert.pem";
  auto bad = GrpcServer::Start(core_.get(), half_tls);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);

  half_tls.tls_key_file = "/nonexistent/key.pem";
  bad = GrpcServer::Start(core_.get(), half_tls);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  ExpectSimpleWorks();
}

TEST_F(GrpcTest, MaxMessageSize) {
  repo_.AddBundled("simple");
  repo_.AddIdentityChain("wide", 1024, 1, ChainConfig("wide", 1024, ""));
  GrpcOptions gopts;
  gopts.max_message_bytes = 2048;
  Start({}, gopts);
  ModelInferResponse resp;
  grpc::Status s = Infer(ChainRequest("wide", 1, 1024, 1.0f), &resp);  // 4 KiB of input
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << CodeText(s);
  ExpectSimpleWorks();
}

// ---- Queue, deadlines, cancellation, stop --------------------------------------------------

// Sizes of the slow identity chain: a full batch of 8 rows takes the single instance a long
// while (about a second here), one row a fraction of that.
constexpr int64_t kSlowWidth = 1024;
constexpr int kSlowDepth = 200;

TEST_F(GrpcTest, QueueFullIsUnavailableAndEveryAnswerExact) {
  repo_.AddIdentityChain(
      "slow", kSlowWidth, kSlowDepth,
      ChainConfig("slow", kSlowWidth,
                  "dynamic_batching { default_queue_policy { max_queue_size: 1 } }\n"));
  Start();
  constexpr int kThreads = 8, kEach = 4;
  std::atomic<int> ok{0}, unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const ModelInferRequest req =
            ChainRequest("slow", 1, kSlowWidth, static_cast<float>(100 * t + 10 * i));
        ModelInferResponse resp;
        grpc::Status s = Infer(req, &resp);
        if (s.ok()) {
          ExpectIdentity(req, resp);
          ++ok;
        } else {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << CodeText(s);
          EXPECT_FALSE(s.error_message().empty());
          ++unavailable;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(unavailable.load(), 0);
  EXPECT_EQ(ok.load() + unavailable.load(), kThreads * kEach);

  // The refusals left the model serving.
  const ModelInferRequest req = ChainRequest("slow", 2, kSlowWidth, 5.0f);
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectIdentity(req, resp);
}

TEST_F(GrpcTest, DeadlinesAreDeadlineExceeded) {
  repo_.AddIdentityChain("slow", kSlowWidth, kSlowDepth,
                         ChainConfig("slow", kSlowWidth, "dynamic_batching { }\n"));
  Start();
  // A full batch keeps the single instance busy; the requests below wait behind it.
  AsyncInfer busy(stub_.get(), ChainRequest("slow", 8, kSlowWidth, 1.0f));
  WaitUntil([&] { return !core_->WaitIdle(std::chrono::milliseconds(0)); }, "A to arrive");
  WaitUntil(
      [&] { return Metric(*core_, Series("nv_inference_pending_request_count", "slow")) == 0; },
      "A to leave the queue");

  // The client's gRPC deadline.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(20));
    ModelInferResponse resp;
    grpc::Status s = stub_->ModelInfer(&ctx, ChainRequest("slow", 1, kSlowWidth, 2.0f), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << CodeText(s);
  }
  // Triton's "timeout" parameter (microseconds), with no gRPC deadline: the core's answer.
  {
    ModelInferRequest req = ChainRequest("slow", 1, kSlowWidth, 3.0f);
    (*req.mutable_parameters())["timeout"].set_int64_param(1000);
    ModelInferResponse resp;
    grpc::Status s = stub_->ModelInfer(std::make_unique<grpc::ClientContext>().get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << CodeText(s);
    EXPECT_FALSE(s.error_message().empty());
  }
  grpc::Status s = busy.Wait();
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectIdentity(busy.request(), busy.response());
  // The timed-out requests never ran, and the core itself timed out the "timeout" one.
  WaitUntil([&] { return core_->WaitIdle(std::chrono::milliseconds(0)); }, "the core to idle");
  EXPECT_EQ(Metric(*core_, Series("nv_inference_count", "slow")), 8);
  EXPECT_GE(Metric(*core_, Series("nv_inference_request_failure", "slow", ",reason=\"TIMEOUT\"")),
            1);
}

TEST_F(GrpcTest, CancelledCallFreesItsQueueSlot) {
  repo_.AddIdentityChain(
      "slow", kSlowWidth, kSlowDepth,
      ChainConfig("slow", kSlowWidth,
                  "dynamic_batching { default_queue_policy { max_queue_size: 1 } }\n"));
  Start();
  const std::string pending = Series("nv_inference_pending_request_count", "slow");
  const std::string cancelled =
      Series("nv_inference_request_failure", "slow", ",reason=\"CANCELED\"");
  // A: a full batch, taken off the queue by the single instance and running for a while.
  AsyncInfer a(stub_.get(), ChainRequest("slow", 8, kSlowWidth, 1.0f));
  WaitUntil([&] { return !core_->WaitIdle(std::chrono::milliseconds(0)); }, "A to arrive");
  WaitUntil([&] { return Metric(*core_, pending) == 0; }, "A to leave the queue");
  // B: waits in the one queue slot; a third request is refused.
  auto b = std::make_unique<AsyncInfer>(stub_.get(), ChainRequest("slow", 1, kSlowWidth, 2.0f));
  WaitUntil([&] { return Metric(*core_, pending) == 1 || b->done(); }, "B to queue");
  ASSERT_FALSE(b->done()) << CodeText(b->Wait());
  ModelInferResponse resp;
  grpc::Status s = Infer(ChainRequest("slow", 1, kSlowWidth, 3.0f), &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << CodeText(s);

  // Cancelling B on the client cancels it in the core: the slot frees while A still runs.
  b->context().TryCancel();
  EXPECT_EQ(b->Wait().error_code(), grpc::StatusCode::CANCELLED);
  WaitUntil([&] { return Metric(*core_, cancelled) == 1; }, "the server to cancel B");
  EXPECT_EQ(Metric(*core_, pending), 0);
  AsyncInfer d(stub_.get(), ChainRequest("slow", 1, kSlowWidth, 4.0f));
  WaitUntil([&] { return Metric(*core_, pending) == 1 || d.done(); }, "D to queue");
  EXPECT_FALSE(a.done()) << "A finished before the check: make the chain slower";

  s = a.Wait();
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectIdentity(a.request(), a.response());
  s = d.Wait();
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectIdentity(d.request(), d.response());
  // B never ran: 8 rows of A and 1 of D.
  EXPECT_EQ(Metric(*core_, Series("nv_inference_count", "slow")), 9);
}

TEST_F(GrpcTest, StopFinishesInFlightAndRefusesNew) {
  repo_.AddIdentityChain("slow", kSlowWidth, kSlowDepth,
                         ChainConfig("slow", kSlowWidth, "dynamic_batching { }\n"));
  Start();
  AsyncInfer a(stub_.get(), ChainRequest("slow", 8, kSlowWidth, 1.0f));
  // Stop once A is in the core (a request not yet received would be refused).
  WaitUntil([&] { return !core_->WaitIdle(std::chrono::milliseconds(0)); }, "A to arrive");
  grpc_->Stop(std::chrono::seconds(120));
  grpc::Status s = a.Wait();
  ASSERT_TRUE(s.ok()) << CodeText(s);
  ExpectIdentity(a.request(), a.response());

  ModelInferResponse resp;
  auto ctx = Ctx();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  s = stub_->ModelInfer(ctx.get(), ChainRequest("slow", 1, kSlowWidth, 2.0f), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << CodeText(s);
}

TEST_F(GrpcTest, StopWithoutGraceCancelsQueuedWork) {
  repo_.AddIdentityChain("slow", kSlowWidth, kSlowDepth,
                         ChainConfig("slow", kSlowWidth, "dynamic_batching { }\n"));
  Start();
  AsyncInfer a(stub_.get(), ChainRequest("slow", 8, kSlowWidth, 1.0f));
  WaitUntil([&] { return !core_->WaitIdle(std::chrono::milliseconds(0)); }, "A to arrive");
  AsyncInfer b(stub_.get(), ChainRequest("slow", 8, kSlowWidth, 2.0f));
  WaitUntil(
      [&] { return Metric(*core_, Series("nv_inference_pending_request_count", "slow")) == 1; },
      "B to queue");
  grpc_->Stop(std::chrono::milliseconds(0));
  // Both calls complete (Stop returned only after every RPC had); the queued one cannot have
  // run to completion, and any that did is exact.
  for (AsyncInfer* call : {&a, &b}) {
    grpc::Status s = call->Wait();
    if (s.ok()) ExpectIdentity(call->request(), call->response());
  }
  EXPECT_FALSE(b.Wait().ok());
  // The queued one was cancelled in the core rather than left to run.
  WaitUntil([&] { return core_->WaitIdle(std::chrono::milliseconds(0)); }, "the core to idle");
  EXPECT_EQ(Metric(*core_, Series("nv_inference_count", "slow")), 8);
}

}  // namespace
}  // namespace supernova::server
