#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/optimizer.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::FuseConvAdd;
using ::testing::ElementsAre;

TEST(FuseConvAdd, FusesResidualAddEitherOperandOrder) {
  for (bool conv_first : {true, false}) {
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 4, 6, 6});
    const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 4, 3, 3}, 2))});
    SetInts(b.NodeOf(conv), "pads", {1, 1, 1, 1});
    // The residual is computed after the Conv in node order: the fusion must reorder.
    const std::string z = b.Op("Sigmoid", {x});
    const std::string y = b.Op(
        "Add", conv_first ? std::vector<std::string>{conv, z} : std::vector<std::string>{z, conv});
    b.Output(y);
    ir::Graph g = ExpectPassKeepsOutputs(b.model(), FuseConvAdd, b.feeds());
    ASSERT_THAT(OpTypes(g), ElementsAre("Sigmoid", "FusedConv"));
    const ir::Node& f = g.nodes[1];
    EXPECT_THAT(f.inputs, ElementsAre(x, "w", "", z));
    EXPECT_EQ(f.AttrString("activation", ""), "");
    EXPECT_EQ(f.outputs[0], y);
  }
}

TEST(FuseConvAdd, WithReluBecomesOneFusedConvAtLevelAll) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 5, 5});
  const std::string conv = b.Op(
      "Conv", {x, b.Const("w", RandomTensor({4, 4, 1, 1}, 2)), b.Const("b", RandomTensor({4}, 3))});
  b.Output(b.Op("Relu", {b.Op("Add", {conv, x})}));
  ExpectPassKeepsOutputs(b.model(), FuseConvAdd, b.feeds());
  ir::Graph g = b.model().graph;
  ASSERT_TRUE(optimizer::Optimize(g, OptimizationLevel::kAll).ok());
  ASSERT_THAT(OpTypes(g), ElementsAre("FusedConv"));
  EXPECT_EQ(g.nodes[0].AttrString("activation", ""), "Relu");
  EXPECT_THAT(g.nodes[0].inputs, ElementsAre(x, "w", "b", x));
}

TEST(FuseConvAdd, LeavesBroadcastingAdd) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 5, 5});
  const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 4, 1, 1}, 2))});
  b.Output(b.Op("Add", {conv, b.Const("bias", RandomTensor({1, 4, 1, 1}, 3))}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FuseConvAdd, &g), 0);
}

TEST(FuseConvAdd, LeavesConvWithActivation) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 5, 5});
  const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 4, 1, 1}, 2))});
  b.Output(b.Op("Add", {b.Op("Relu", {conv}), x}));
  ir::Graph g;
  ASSERT_EQ(ApplyPass(b.model(), optimizer::FuseConvActivation, &g), 1);
  ir::Model fused;
  fused.graph = g;
  EXPECT_EQ(ApplyPass(fused, FuseConvAdd, &g), 0);
}

}  // namespace
}  // namespace supernova::testing
