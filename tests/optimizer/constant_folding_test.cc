#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "optimizer/graph_builder.h"
#include "optimizer/optimizer.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::FoldConstants;
using ::testing::ElementsAre;

TEST(ConstantFolding, FoldsArithmeticOnInitializers) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  const std::string c1 = b.Const("c1", RandomTensor({3}, 1));
  const std::string c2 = b.Const("c2", RandomTensor({3}, 2));
  const std::string two = b.Const("two", Tensor::Scalar<float>(2.0f));
  const std::string s = b.Op("Mul", {b.Op("Add", {c1, c2}), two});
  b.Output(b.Op("Add", {x, s}));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldConstants, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Add"));
  EXPECT_TRUE(g.IsInitializer(s));
}

TEST(ConstantFolding, FoldsConstantNodesAndShapeOfStaticValues) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 4});
  ir::Node& k = b.Node("Constant", {}, {"k"});
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kTensor;
  a.t = Tensor::FromVector<int64_t>({6, 4}, {2});
  k.attributes["value"] = a;
  const std::string flat = b.Op("Reshape", {b.Op("Relu", {x}), "k"});
  // Shape of a static value: the Reshape back needs no data of x at all.
  b.Output(b.Op("Reshape", {b.Op("Sigmoid", {flat}), b.Op("Shape", {x})}));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldConstants, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("Relu", "Reshape", "Sigmoid", "Reshape"));
}

TEST(ConstantFolding, LeavesGraphOutputsAndLargeResultsAlone) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1});
  b.Output(b.Op("Add", {b.Const("a", RandomTensor({3}, 1)), b.Const("b", RandomTensor({3}, 2))}));
  // 5 * 1024 * 1024 floats = 20 MiB, more than the pass folds.
  const std::string big = b.Op(
      "ConstantOfShape", {b.Const("shape", Tensor::FromVector<int64_t>({5, 1024, 1024}, {3}))});
  b.Output(b.Op("Add", {big, x}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FoldConstants, &g), 0);
  EXPECT_THAT(OpTypes(g), ElementsAre("Add", "ConstantOfShape", "Add"));
}

TEST(ConstantFolding, LeavesUnseededTrainingDropoutAlone) {
  // Folding it would freeze one random mask into the model; a seeded one gives the same mask
  // every run and folds.
  for (bool seeded : {false, true}) {
    GraphBuilder b;
    const std::string x = b.Input("x", {4});
    const std::string d = b.Op(
        "Dropout", {b.Const("c", RandomTensor({4}, 1)), b.Const("r", Tensor::Scalar<float>(0.5f)),
                    b.Const("t", Tensor::Scalar<bool>(true))});
    if (seeded) SetInt(b.NodeOf(d), "seed", 3);
    b.Output(b.Op("Add", {x, d}));
    ir::Graph g;
    EXPECT_EQ(ApplyPass(b.model(), FoldConstants, &g), seeded ? 1 : 0);
    if (seeded)
      EXPECT_THAT(OpTypes(g), ElementsAre("Add"));
    else
      EXPECT_THAT(OpTypes(g), ElementsAre("Dropout", "Add"));
  }
}

TEST(ConstantFolding, NeverFoldsOrMergesRandomOps) {
  // Two identical seeded RandomUniform nodes have no inputs and would compute equal tensors,
  // and RandomUniformLike reads only a constant; each is still a draw of its own at run time
  // (OpDef::deterministic), so no pass may turn one into an initializer or merge the two.
  GraphBuilder b;
  const std::string x = b.Input("x", {4});
  for (const char* name : {"r1", "r2"}) {
    ir::Node& r = b.Node("RandomUniform", {}, {name});
    SetInts(r, "shape", {4});
    SetFloat(r, "seed", 1.0f);
  }
  const std::string like = b.Op("RandomUniformLike", {b.Const("c", RandomTensor({4}, 1))});
  b.Output(b.Op("Add", {b.Op("Add", {x, "r1"}), b.Op("Add", {"r2", like})}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FoldConstants, &g), 0);
  ir::Model m = b.model();
  ASSERT_TRUE(optimizer::Optimize(m.graph, OptimizationLevel::kAll).ok());
  const std::vector<std::string> types = OpTypes(m.graph);
  EXPECT_EQ(std::count(types.begin(), types.end(), "RandomUniform"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "RandomUniformLike"), 1);
  EXPECT_TRUE(RunModel(b.model(), OptimizationLevel::kAll, b.feeds()).ok());
}

}  // namespace
}  // namespace supernova::testing
