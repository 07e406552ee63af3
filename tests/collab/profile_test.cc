// Profiles: step times spread over source nodes as worked out by hand, a measured profile of
// a small model that adds up to its whole run, and the file format's round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <numeric>

#include "collab/cut.h"
#include "collab/measure.h"
#include "optimizer/graph_builder.h"

namespace supernova::collab {
namespace {

using supernova::testing::GraphBuilder;
using supernova::testing::RandomTensor;

// x -> Conv (c) -> Relu (r) -> Conv (y)
struct ConvChain {
  GraphBuilder b;
  std::string x, c, r, y;
  ConvChain() {
    x = b.Input("x", {1, 2, 5, 5});
    c = b.Op("Conv", {x, b.Const("w0", RandomTensor({2, 2, 3, 3}, 3))});
    r = b.Op("Relu", {c});
    y = b.Op("Conv", {r, b.Const("w1", RandomTensor({2, 2, 1, 1}, 4))});
    b.Output(y);
  }
};

TEST(Attribution, AFusedStepIsSpreadByWorkThenScaledToTheWholeRun) {
  ConvChain n;
  const ir::Graph& g = n.b.model().graph;
  // Conv + Relu fused into one 6 ms step, the last Conv 4 ms; the whole run took 20 ms.
  const std::vector<StepTime> steps = {{{n.x}, {n.r}, 6}, {{n.r}, {n.y}, 4}};
  const std::vector<double> weights = {100, 20, 50};
  const std::vector<double> ms = AttributeTimes(g, steps, weights, 20);
  // 6 ms as 100 : 20 -> 5 and 1; then 4; all doubled to add up to 20.
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_DOUBLE_EQ(ms[0], 10);
  EXPECT_DOUBLE_EQ(ms[1], 2);
  EXPECT_DOUBLE_EQ(ms[2], 8);
}

TEST(Attribution, AStepNamingNoSourceTensorPassesItsTimeOn) {
  ConvChain n;
  const ir::Graph& g = n.b.model().graph;
  // The first step's output was renamed by a rewrite; the next covers all three nodes.
  const std::vector<StepTime> steps = {{{n.x}, {"fused:0"}, 3}, {{"fused:0"}, {n.y}, 3}};
  const std::vector<double> ms = AttributeTimes(g, steps, {1, 1, 4}, 6);
  EXPECT_DOUBLE_EQ(ms[0], 1);
  EXPECT_DOUBLE_EQ(ms[1], 1);
  EXPECT_DOUBLE_EQ(ms[2], 4);
}

TEST(Profile, MeasuredNodesAddUpToTheWholeRunAndTensorsHaveTheirSizes) {
  ConvChain n;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("collab_profile_" + std::to_string(getpid()) + ".onnx"))
                               .string();
  ASSERT_TRUE(ir::ExportOnnxFile(n.b.model(), path).ok());
  MeasureOptions options;
  options.iterations = 5;
  options.slowdown = 3;
  options.macs = [](const ir::Node& node, const ShapeOf& shape_of) {
    // Conv: output elements x input channels x kernel size.
    if (node.op_type != "Conv") return 0.0;
    const Shape out = *shape_of(node.outputs[0]);
    const Shape w = *shape_of(node.inputs[1]);
    return static_cast<double>(out[1] * out[2] * out[3] * w[1] * w[2] * w[3]);
  };
  auto p = MeasureProfile(path, n.b.feeds(), options);
  std::filesystem::remove(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->nodes.size(), 3u);
  double sum = 0;
  for (const ProfiledNode& node : p->nodes) sum += node.ms;
  EXPECT_NEAR(sum, p->total_ms, 1e-9 * p->total_ms);
  EXPECT_DOUBLE_EQ(p->total_ms, 3 * p->measured_ms);
  EXPECT_GT(p->nodes[0].ms, 0);
  EXPECT_EQ(p->nodes[0].macs, 2.0 * 3 * 3 * 2 * 3 * 3);  // 2 x 3x3 outputs of 2 x 3x3 each
  EXPECT_EQ(p->tensors.at(n.r).bytes, 2u * 3 * 3 * 4);
  EXPECT_EQ(p->tensors.at(n.r).shape, (Shape{1, 2, 3, 3}));
  EXPECT_EQ(p->tensors.at(n.x).bytes, 2u * 5 * 5 * 4);
  EXPECT_EQ(p->input_shapes.at(n.x), (Shape{1, 2, 5, 5}));
  EXPECT_THAT(p->attribution, ::testing::HasSubstr("x3"));
  EXPECT_THAT(p->attribution, ::testing::HasSubstr("reference kernels"));
  EXPECT_TRUE(CheckProfileMatches(*p, n.b.model().graph, "edge profile").ok());
}

TEST(Profile, RoundTripsThroughItsFileAndKnowsItsModel) {
  ConvChain n;
  Profile p;
  p.model = "chain.onnx";
  p.fingerprint = ModelFingerprint(n.b.model().graph);
  p.threads = 2;
  p.slowdown = 1.5;
  p.iterations = 7;
  p.total_ms = 3;
  p.measured_ms = 2;
  p.input_shapes[n.x] = {1, 2, 5, 5};
  for (const ir::Node& node : n.b.model().graph.nodes)
    p.nodes.push_back({NodeKey(node), node.op_type, 1, 9});
  p.tensors[n.r] = {DataType::kFloat32, {1, 2, 3, 3}, 72};
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("collab_profile_" + std::to_string(getpid()) + ".json"))
                               .string();
  ASSERT_TRUE(WriteProfile(p, path).ok());
  auto back = ReadProfile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->fingerprint, p.fingerprint);
  EXPECT_EQ(back->threads, 2);
  EXPECT_EQ(back->slowdown, 1.5);
  EXPECT_EQ(back->nodes.size(), 3u);
  EXPECT_EQ(back->nodes[1].key, p.nodes[1].key);
  EXPECT_EQ(back->nodes[2].macs, 9);
  EXPECT_EQ(back->tensors.at(n.r).bytes, 72u);
  EXPECT_EQ(back->tensors.at(n.r).dtype, DataType::kFloat32);
  EXPECT_EQ(back->input_shapes.at(n.x), (Shape{1, 2, 5, 5}));

  GraphBuilder other;
  other.Output(other.Op("Relu", {other.Input("x", {2})}));
  Status s = CheckProfileMatches(*back, other.model().graph, "edge profile e.json");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("edge profile e.json was measured on another "
                                                "model ('chain.onnx', 3 nodes; this one has 1)"));
  EXPECT_FALSE(ReadProfile(path).ok());
}

}  // namespace
}  // namespace supernova::collab
