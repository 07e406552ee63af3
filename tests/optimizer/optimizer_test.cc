#include "optimizer/optimizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

// Conv + BN + Identity + Relu with a constant subexpression and a dead branch: every pass has
// something to do.
GraphBuilder ConvBlock() {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 8, 8});
  const std::string w = b.Op("Mul", {b.Const("w0", RandomTensor({4, 3, 3, 3}, 2)),
                                     b.Const("k", Tensor::Scalar<float>(0.5f))});
  const std::string conv = b.Op("Conv", {x, w});
  SetInts(b.NodeOf(conv), "pads", {1, 1, 1, 1});
  const std::string bn = b.Op(
      "BatchNormalization",
      {conv, b.Const("s", RandomTensor({4}, 3, 0.5f, 2.0f)), b.Const("o", RandomTensor({4}, 4)),
       b.Const("m", RandomTensor({4}, 5)), b.Const("v", RandomTensor({4}, 6, 0.5f, 2.0f))});
  b.Op("Tanh", {bn});  // dead
  b.Output(b.Op("Relu", {b.Op("Identity", {bn})}));
  return b;
}

TEST(Optimizer, LevelsRunTheirPassesAndReportStats) {
  GraphBuilder b = ConvBlock();
  std::vector<optimizer::PassStats> stats;
  ir::Graph none = b.model().graph;
  ASSERT_TRUE(optimizer::Optimize(none, OptimizationLevel::kNone, &stats).ok());
  EXPECT_TRUE(stats.empty());
  EXPECT_EQ(none.nodes.size(), b.model().graph.nodes.size());

  ir::Graph basic = b.model().graph;
  ASSERT_TRUE(optimizer::Optimize(basic, OptimizationLevel::kBasic, &stats).ok());
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].name, "constant_folding");
  EXPECT_EQ(stats[1].name, "eliminate_redundant");
  EXPECT_EQ(stats[2].name, "dead_node_elimination");
  for (const auto& s : stats) EXPECT_GT(s.changes, 0) << s.name;
  EXPECT_THAT(OpTypes(basic), ElementsAre("Conv", "BatchNormalization", "Relu"));

  ir::Graph all = b.model().graph;
  ASSERT_TRUE(optimizer::Optimize(all, OptimizationLevel::kAll, &stats).ok());
  EXPECT_EQ(stats.size(), 9u);
  EXPECT_THAT(OpTypes(all), ElementsAre("FusedConv"));
  EXPECT_EQ(all.nodes[0].AttrString("activation", ""), "Relu");
  EXPECT_EQ(all.nodes[0].outputs[0], all.outputs[0]);
  EXPECT_EQ(all.initializers.size(), 2u);  // folded W and bias; the originals are gone
}

TEST(Optimizer, EveryLevelComputesTheSameOutputs) {
  GraphBuilder b = ConvBlock();
  auto want = RunModel(b.model(), OptimizationLevel::kNone, b.feeds());
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  for (OptimizationLevel level : {OptimizationLevel::kBasic, OptimizationLevel::kAll}) {
    auto got = RunModel(b.model(), level, b.feeds());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(TensorsNear((*want)[0], (*got)[0], 1e-5, 1e-5))
        << optimizer::OptimizationLevelName(level);
  }
}

TEST(Optimizer, FusedModelsExportWithTheirDomain) {
  GraphBuilder b = ConvBlock();
  ir::Model m = b.model();
  ASSERT_TRUE(optimizer::Optimize(m.graph, OptimizationLevel::kAll).ok());
  auto bytes = ir::ExportOnnxBytes(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = ir::ImportOnnxBytes(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->graph.Opset("com.supernova"), 1);
  ASSERT_EQ(back->graph.nodes.size(), 1u);
  EXPECT_EQ(back->graph.nodes[0].domain, "com.supernova");
  EXPECT_EQ(back->graph.nodes[0].AttrString("activation", ""), "Relu");
}

TEST(Optimizer, ParsesLevelNames) {
  EXPECT_EQ(*optimizer::ParseOptimizationLevel("none"), OptimizationLevel::kNone);
  EXPECT_EQ(*optimizer::ParseOptimizationLevel("basic"), OptimizationLevel::kBasic);
  EXPECT_EQ(*optimizer::ParseOptimizationLevel("all"), OptimizationLevel::kAll);
  EXPECT_FALSE(optimizer::ParseOptimizationLevel("max").ok());
}

}  // namespace
}  // namespace supernova::testing
