// The gRPC front end end to end (grpc_fixture.h): TLS, start failures and message limits, a
// full queue, deadlines, cancelled calls and stopping. The slow cases use identity-chain
// models (exact answers, as slow as the test needs) and assert what happens, never how fast.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/grpc_fixture.h"

namespace supernova::server {
namespace {

using namespace grpc_test;  // NOLINT: the test helpers

namespace fs = std::filesystem;

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
