// What the gRPC front end's tests share: a real InferenceServer on a temporary repository, a real
// GrpcServer on 127.0.0.1 (port 0) and the stub generated from proto/grpc_service.proto (the
// GrpcTest fixture), and the bundled `simple` model's requests with their exact answers. The
// tests that use it are grpc_{metadata,infer,admin,transport}_test.cc.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "grpc_service.grpc.pb.h"
#include "server/grpc_server.h"
#include "server/inference_server.h"
#include "server/raw_bytes.h"
#include "server/test_repository.h"

namespace supernova::server::grpc_test {

using inference::GRPCInferenceService;
using inference::ModelInferRequest;
using inference::ModelInferResponse;

constexpr int kSimpleWidth = 16;
// The admin token of the tests that load and unload: without a token the server refuses
// administration.
inline constexpr char kTestAdminToken[] = "test-admin-token";

// Deterministic INT32 rows for `simple`: INPUT0[r][i] = 100 r + i + seed, INPUT1 = 3 i - r.
std::vector<int32_t> Input0(int batch, int seed);
std::vector<int32_t> Input1(int batch);

using test_bytes::Bytes;

void AddInput(ModelInferRequest* req, const std::string& name, const std::string& datatype,
              std::vector<int64_t> shape);

// `simple` with raw contents (typed: int_contents instead).
ModelInferRequest SimpleRequest(int batch = 1, int seed = 0, bool typed = false);

template <typename T>
std::vector<T> FromBytes(const std::string& s) {
  std::vector<T> v(s.size() / sizeof(T));
  std::memcpy(v.data(), s.data(), v.size() * sizeof(T));
  return v;
}

// The response to SimpleRequest(batch, seed): OUTPUT0 = sum, OUTPUT1 = difference, exact.
void ExpectSimpleAnswer(const ModelInferResponse& resp, int batch, int seed,
                        std::vector<std::string> names = {"OUTPUT0", "OUTPUT1"});

std::string CodeText(const grpc::Status& s);

// The value of one series in the core's Prometheus text, e.g.
// `nv_inference_count{model="slow",version="1"}`; -1 when absent.
double Metric(const InferenceServer& core, const std::string& series);

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

  // Start() with kTestAdminToken as the admin token, which Ctx() then sends: the only token,
  // so it also guards inference. For the tests that load and unload.
  void StartAdmin(ServerOptions opts = {}, GrpcOptions gopts = {}) {
    opts.admin_token = kTestAdminToken;
    default_token_ = kTestAdminToken;
    Start(std::move(opts), std::move(gopts));
  }

  std::string Target() const { return "127.0.0.1:" + std::to_string(grpc_->port()); }

  // A context with a generous deadline, so that a hung server fails the test instead of
  // hanging it, and a bearer token: `token`, else StartAdmin's.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    const std::string& sent = token.empty() ? default_token_ : token;
    if (!sent.empty()) ctx->AddMetadata("authorization", "Bearer " + sent);
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

  std::string default_token_;
  testing::TempRepository repo_;
  std::unique_ptr<InferenceServer> core_;
  std::unique_ptr<GrpcServer> grpc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<GRPCInferenceService::Stub> stub_;
};

}  // namespace supernova::server::grpc_test
