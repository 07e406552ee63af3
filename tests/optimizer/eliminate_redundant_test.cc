#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/passes.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using optimizer::EliminateRedundantNodes;
using ::testing::ElementsAre;

TEST(EliminateRedundant, RemovesIdentityDropoutAndSameTypeCast) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  const std::string i = b.Op("Identity", {b.Op("Relu", {x})});
  b.Node("Dropout", {i}, {"d"});
  const std::string c = b.Op("Cast", {"d"});
  SetInt(b.NodeOf(c), "to", static_cast<int64_t>(DataType::kFloat32));
  b.Output(b.Op("Sigmoid", {c}));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateRedundantNodes, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Relu", "Sigmoid"));
}

TEST(EliminateRedundant, KeepsGraphOutputNames) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  b.Node("Identity", {b.Op("Relu", {x})}, {"y"});
  b.Output("y");
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateRedundantNodes, b.feeds());
  ASSERT_THAT(OpTypes(g), ElementsAre("Relu"));
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  EXPECT_THAT(g.outputs, ElementsAre("y"));
}

TEST(EliminateRedundant, KeepsIdentityFromGraphInputToGraphOutput) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  b.Node("Identity", {x}, {"y"});
  b.Output("y");
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), EliminateRedundantNodes, &g), 0);
  EXPECT_THAT(OpTypes(g), ElementsAre("Identity"));
}

TEST(EliminateRedundant, KeepsDropoutInTrainingModeAndCastsThatConvert) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  b.Node("Dropout",
         {x, b.Const("ratio", Tensor::Scalar<float>(0.0f)),
          b.Const("train", Tensor::Scalar<bool>(true))},
         {"d"});
  const std::string c = b.Op("Cast", {"d"});
  SetInt(b.NodeOf(c), "to", static_cast<int64_t>(DataType::kFloat64));
  b.Output(c);
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), EliminateRedundantNodes, &g), 0);
}

TEST(EliminateRedundant, CollapsesReshapeChainsAndNoOpReshapes) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4});
  const std::string r = b.Op("Relu", {x});
  const std::string flat = b.Op("Flatten", {r});
  const std::string r1 = b.Op("Reshape", {flat, b.Const("s1", Int64s({4, 6}))});
  const std::string r2 = b.Op("Reshape", {r1, b.Const("s2", Int64s({-1, 8}))});
  // A Reshape to its input's own shape is a no-op.
  const std::string r3 = b.Op("Reshape", {b.Op("Sigmoid", {r2}), b.Const("s3", Int64s({3, 8}))});
  b.Output(b.Op("Tanh", {r3}));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateRedundantNodes, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Relu", "Reshape", "Sigmoid", "Tanh"));
}

TEST(EliminateRedundant, KeepsReshapeChainWhoseShapeCopiesADim) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4});
  const std::string r1 = b.Op("Reshape", {x, b.Const("s1", Int64s({6, 4}))});
  b.Output(b.Op("Reshape", {r1, b.Const("s2", Int64s({0, 2, 2}))}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), EliminateRedundantNodes, &g), 0);
}

TEST(EliminateRedundant, CancelsInverseTransposes) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4, 5});
  const std::string t1 = b.Op("Transpose", {b.Op("Relu", {x})});
  SetInts(b.NodeOf(t1), "perm", {0, 2, 3, 1});
  const std::string t2 = b.Op("Transpose", {t1});
  SetInts(b.NodeOf(t2), "perm", {0, 3, 1, 2});
  b.Output(b.Op("Sigmoid", {t2}));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateRedundantNodes, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Relu", "Sigmoid"));
}

TEST(EliminateRedundant, ComposesTransposes) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4});
  const std::string t1 = b.Op("Transpose", {x});  // default: reversed axes
  const std::string t2 = b.Op("Transpose", {t1});
  SetInts(b.NodeOf(t2), "perm", {1, 0, 2});
  b.Output(t2);
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), EliminateRedundantNodes, b.feeds());
  ASSERT_THAT(OpTypes(g), ElementsAre("Transpose"));
  EXPECT_THAT(g.nodes[0].AttrInts("perm"), ElementsAre(1, 2, 0));
  EXPECT_EQ(g.nodes[0].inputs[0], x);
}

}  // namespace
}  // namespace supernova::testing
