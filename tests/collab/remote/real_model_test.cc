// A real model through the split runner and a real server: CenterNet (MobileNetV3, skip
// connections into its decoder) cut at a frontier of its node order two thirds in, so that
// the cut carries every tensor that crosses it. Head here plus tail remote must give the
// whole model's outputs bit for bit, with megabytes on the wire each way. (One cut only:
// the model takes most of a second per run on this machine's two cores.)
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include "collab/remote/split_fixture.h"
#include "collab/remote/split_runner.h"
#include "kserve/kserve_client.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "server/serve_process.h"

namespace supernova::collab {
namespace {

namespace fs = std::filesystem;
using namespace supernova::collab::testing;  // NOLINT
using kserve::KServeClient;

TEST(SplitRealModel, CenterNetCutAtAFrontierEqualsTheWholeModel) {
  const std::string path =
      std::string(SUPERNOVA_SHARED_MODELS_DIR) + "/centernet_mbv3_coco_512.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path << ": the shared models are not here";
  auto model = ir::ImportOnnxFile(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ops::InferShapes(model->graph);
  const ir::Graph& g = model->graph;
  ASSERT_EQ(g.inputs.size(), 1u);
  const std::string input = g.inputs[0];
  std::vector<std::pair<std::string, Tensor>> feeds = {
      {input, supernova::testing::RandomTensor(g.TypeOf(input)->StaticShape(), 5, 0, 1)}};
  const size_t n = g.nodes.size();
  const std::vector<std::string> cut = FrontierCut(g, 2 * n / 3);
  ASSERT_GT(cut.size(), 1u) << "the frontier should cross a skip connection";
  SplitDir d = NewSplitDir(*model, std::move(feeds));
  WriteSplitDir(d, "centernet",
                {{0, "edge_only", d.whole.graph.outputs, true}, {2, "split", cut, true}}, 1, 2,
                /*timing_runs=*/0);
  ASSERT_EQ(d.expected.size(), 2u);

  supernova::testing::ServeProcess serve({"--model-repository", d.dir + "/repository"});
  ASSERT_TRUE(serve.WaitReady()) << serve.Log();
  auto plan = ReadSplitPlan(d.dir);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto client = KServeClient::Create("127.0.0.1:" + std::to_string(serve.grpc_port()));
  ASSERT_TRUE(client.ok());
  SplitOptions opts;
  opts.timeout_ms = 20000;  // megabytes through gzip on a loaded machine
  auto runner = SplitRunner::Open(std::move(plan).value(), std::move(client).value(), opts);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  {
    const int id = 2;
    RequestRecord rec;
    auto out = (*runner)->Run(d.feeds, &rec);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::cout << rec.ToJson() << "\n";
    EXPECT_EQ(rec.tail_at, "remote") << rec.ToJson();
    EXPECT_EQ(rec.sent_bytes, (*runner)->plan().Find(id)->sent_bytes);
    EXPECT_TRUE(BitEqual(d.expected, *out)) << "cut " << id;
  }
}

}  // namespace
}  // namespace supernova::collab
