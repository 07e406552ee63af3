// The gRPC front end end to end (grpc_fixture.h): liveness and readiness, server and model
// metadata, model config and statistics.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/grpc_fixture.h"

namespace supernova::server {
namespace {

using namespace grpc_test;  // NOLINT: the test helpers

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

}  // namespace
}  // namespace supernova::server
