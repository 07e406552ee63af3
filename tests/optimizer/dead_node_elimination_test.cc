#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::EliminateDeadNodes;
using ::testing::ElementsAre;

TEST(DeadNodeElimination, RemovesUnreadNodesAndInitializers) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 5});
  const std::string w = b.Const("w", RandomTensor({2, 5}, 3));
  b.Const("unused", RandomTensor({4}, 4));
  const std::string y = b.Op("Relu", {x});
  // A dead branch two nodes long: both go in one sweep.
  b.Op("Tanh", {b.Op("Mul", {x, w})});
  b.Output(y);
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateDeadNodes, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Relu"));
  EXPECT_TRUE(g.initializers.empty());
}

TEST(DeadNodeElimination, KeepsNodesWithOneUsedOutputAndUnusedGraphInputs) {
  GraphBuilder b;
  const std::string x = b.Input("x", {4, 6});
  b.Input("spare", {3});
  ir::Node& split = b.Node("Split", {x}, {"s0", "s1"});
  SetInt(split, "axis", 1);
  b.Output(b.Op("Relu", {"s1"}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), EliminateDeadNodes, &g), 0);
  EXPECT_THAT(OpTypes(g), ElementsAre("Split", "Relu"));
  EXPECT_EQ(g.inputs.size(), 2u);
}

}  // namespace
}  // namespace supernova::testing
