#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::FoldBatchNorm;
using ::testing::ElementsAre;

// BatchNormalization over `x` with `c` channels and non-trivial statistics.
std::string AddBatchNorm(GraphBuilder& b, const std::string& x, int64_t c, uint32_t seed) {
  const std::string p = "bn" + std::to_string(seed) + "_";
  const std::string y =
      b.Op("BatchNormalization", {x, b.Const(p + "scale", RandomTensor({c}, seed, 0.5f, 2.0f)),
                                  b.Const(p + "bias", RandomTensor({c}, seed + 1)),
                                  b.Const(p + "mean", RandomTensor({c}, seed + 2)),
                                  b.Const(p + "var", RandomTensor({c}, seed + 3, 0.1f, 3.0f))});
  SetFloat(b.NodeOf(y), "epsilon", 1e-3f);
  return y;
}

TEST(FoldBatchNorm, FoldsIntoConvWithAndWithoutBias) {
  for (bool bias : {false, true}) {
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 3, 7, 7});
    std::vector<std::string> in = {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 2))};
    if (bias) in.push_back(b.Const("b", RandomTensor({4}, 3)));
    const std::string conv = b.Op("Conv", in);
    SetInts(b.NodeOf(conv), "pads", {1, 1, 1, 1});
    b.Output(AddBatchNorm(b, conv, 4, 10));
    ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldBatchNorm, b.feeds());
    ASSERT_THAT(OpTypes(g), ElementsAre("Conv")) << "bias " << bias;
    EXPECT_EQ(g.nodes[0].inputs.size(), 3u);
    EXPECT_EQ(g.nodes[0].outputs[0], g.outputs[0]);
  }
}

TEST(FoldBatchNorm, FoldsIntoGroupedConvTranspose) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 5, 5});
  // W [C=4, M/g=3, 2, 2] with group 2: 6 output channels.
  const std::string conv = b.Op("ConvTranspose", {x, b.Const("w", RandomTensor({4, 3, 2, 2}, 2)),
                                                  b.Const("b", RandomTensor({6}, 3))});
  SetInt(b.NodeOf(conv), "group", 2);
  SetInts(b.NodeOf(conv), "strides", {2, 2});
  b.Output(AddBatchNorm(b, conv, 6, 20));
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldBatchNorm, b.feeds());
  EXPECT_THAT(OpTypes(g), ElementsAre("ConvTranspose"));
}

TEST(FoldBatchNorm, FoldsIntoGemmWithConstantB) {
  for (bool trans_b : {false, true}) {
    GraphBuilder b;
    const std::string x = b.Input("x", {3, 5});
    const Shape bshape = trans_b ? Shape{4, 5} : Shape{5, 4};
    const std::string y = b.Op(
        "Gemm", {x, b.Const("B", RandomTensor(bshape, 2)), b.Const("C", RandomTensor({4}, 3))});
    SetInt(b.NodeOf(y), "transB", trans_b ? 1 : 0);
    SetFloat(b.NodeOf(y), "alpha", 0.5f);
    SetFloat(b.NodeOf(y), "beta", 2.0f);
    b.Output(AddBatchNorm(b, y, 4, 30));
    ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldBatchNorm, b.feeds());
    EXPECT_THAT(OpTypes(g), ElementsAre("Gemm")) << "transB " << trans_b;
  }
}

TEST(FoldBatchNorm, LeavesConvWhoseOutputIsReadElsewhere) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 1, 1}, 2))});
  b.Output(AddBatchNorm(b, conv, 4, 10));
  b.Output(b.Op("Relu", {conv}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FoldBatchNorm, &g), 0);
}

TEST(FoldBatchNorm, LeavesConvWithRuntimeWeights) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string w = b.Input("w", {4, 3, 1, 1});
  b.Output(AddBatchNorm(b, b.Op("Conv", {x, w}), 4, 10));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FoldBatchNorm, &g), 0);
}

}  // namespace
}  // namespace supernova::testing
