// Layer folding: the folded graph computes what the original did, in fewer nodes.
#include "compress/fold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "compress/compress_models.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::FoldLayers;
using ::testing::ElementsAre;

// FoldLayers as an optimizer pass (the harness compares outputs before and after): the number
// of nodes it took away.
Result<int> FoldLayersPass(ir::Graph& g) {
  SN_ASSIGN_OR_RETURN(compress::FoldReport r, FoldLayers(g));
  for (const ir::Node& n : g.nodes) EXPECT_EQ(n.domain, "") << n.Label();  // standard ONNX
  return static_cast<int>(r.nodes_before - r.nodes_after);
}

std::string FoldConv(GraphBuilder& b, const std::string& x, const Shape& w, uint32_t seed,
                     bool pad) {
  const std::string y =
      b.Op("Conv", {x, b.Const("fw" + std::to_string(seed), RandomTensor(w, seed)),
                    b.Const("fb" + std::to_string(seed), RandomTensor({w[0]}, seed + 1))});
  if (pad) SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
  return y;
}

TEST(FoldLayers, BatchNormAndConstantAffineIntoConv) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string c = FoldConv(b, x, {4, 3, 3, 3}, 1, true);
  const std::string bn =
      b.Op("BatchNormalization",
           {c, b.Const("s", RandomTensor({4}, 2, 0.5f, 2.0f)), b.Const("o", RandomTensor({4}, 3)),
            b.Const("m", RandomTensor({4}, 4)), b.Const("v", RandomTensor({4}, 5, 0.5f, 2.0f))});
  const std::string mul = b.Op("Mul", {bn, b.Const("k", RandomTensor({4, 1, 1}, 6))});
  const std::string add = b.Op("Add", {b.Const("a", Floats({0.5f}, {})), mul});
  b.Output(b.Op("Div", {add, b.Const("d", RandomTensor({1, 4, 1, 1}, 7, 1.0f, 2.0f))}));
  const ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldLayersPass, b.feeds(), 1e-4, 1e-5);
  EXPECT_THAT(OpTypes(g), ElementsAre("Conv"));
}

TEST(FoldLayers, PointwiseConvIntoThePaddedConvBefore) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  b.Output(FoldConv(b, FoldConv(b, x, {8, 3, 3, 3}, 1, true), {4, 8, 1, 1}, 3, false));
  const ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldLayersPass, b.feeds(), 1e-4, 1e-5);
  ASSERT_THAT(OpTypes(g), ElementsAre("Conv"));
  EXPECT_EQ(g.initializers.at(g.nodes[0].inputs[1]).shape(), (Shape{4, 3, 3, 3}));
}

TEST(FoldLayers, LeavesFoldsThatWouldAddWorkOrCrossANonlinearity) {
  {  // 4 -> 16 channels: the product (16x27) costs more than the pair (4x27 + 16x4)
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 3, 6, 6});
    b.Output(FoldConv(b, FoldConv(b, x, {4, 3, 3, 3}, 1, true), {16, 4, 1, 1}, 3, false));
    EXPECT_EQ(ApplyPass(b.model(), FoldLayersPass), 0);
  }
  {
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 3, 6, 6});
    const std::string r = b.Op("Relu", {FoldConv(b, x, {8, 3, 3, 3}, 1, true)});
    b.Output(FoldConv(b, r, {4, 8, 1, 1}, 3, false));
    EXPECT_EQ(ApplyPass(b.model(), FoldLayersPass), 0);
  }
}

TEST(FoldLayers, MatMulChainThroughABiasAdd) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 5});
  const std::string h = b.Op("MatMul", {x, b.Const("B1", RandomTensor({5, 6}, 1))});
  const std::string biased = b.Op("Add", {h, b.Const("c1", RandomTensor({6}, 2))});
  b.Output(b.Op("MatMul", {biased, b.Const("B2", RandomTensor({6, 4}, 3))}));
  const ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldLayersPass, b.feeds(), 1e-4, 1e-5);
  EXPECT_THAT(OpTypes(g), ElementsAre("MatMul", "Add"));
}

TEST(FoldLayers, GemmChainBecomesOneGemm) {
  GraphBuilder b;
  const std::string x = b.Input("x", {3, 5});
  const std::string h = b.Op(
      "Gemm", {x, b.Const("B1", RandomTensor({6, 5}, 1)), b.Const("C1", RandomTensor({6}, 2))});
  SetInt(b.NodeOf(h), "transB", 1);
  SetFloat(b.NodeOf(h), "alpha", 0.5f);
  const std::string y = b.Op(
      "Gemm", {h, b.Const("B2", RandomTensor({6, 4}, 3)), b.Const("C2", RandomTensor({1, 4}, 4))});
  SetFloat(b.NodeOf(y), "beta", 2.0f);
  b.Output(y);
  const ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldLayersPass, b.feeds(), 1e-4, 1e-5);
  EXPECT_THAT(OpTypes(g), ElementsAre("Gemm"));
}

TEST(FoldLayers, InputChannelScaleIntoPaddedConv) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string scaled = b.Op("Mul", {x, b.Const("s", RandomTensor({1, 3, 1, 1}, 9))});
  b.Output(FoldConv(b, scaled, {4, 3, 3, 3}, 1, true));
  const ir::Graph g = ExpectPassKeepsOutputs(b.model(), FoldLayersPass, b.feeds(), 1e-4, 1e-5);
  EXPECT_THAT(OpTypes(g), ElementsAre("Conv"));
  EXPECT_EQ(g.nodes[0].inputs[0], "x");
}

TEST(FoldLayers, ReportCountsEachKind) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string c = FoldConv(b, b.Op("Mul", {x, b.Const("s", RandomTensor({3, 1, 1}, 9))}),
                                 {8, 3, 3, 3}, 1, true);
  const std::string m = b.Op("Mul", {c, b.Const("k", Floats({2.0f}, {}))});
  b.Output(FoldConv(b, m, {4, 8, 1, 1}, 3, false));
  ir::Graph g = b.model().graph;
  ops::InferShapes(g);
  auto r = FoldLayers(g);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->input_scales, 1);
  EXPECT_EQ(r->affine, 1);
  EXPECT_EQ(r->conv_chains, 1);
  EXPECT_EQ(r->nodes_before, 4u);
  EXPECT_EQ(r->nodes_after, 1u);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

class FoldRealModel : public ::testing::TestWithParam<CompressModelCase> {};

TEST_P(FoldRealModel, SameOutputsInFewerNodes) {
  SUPERNOVA_REQUIRE_MODEL(GetParam().path, GetParam().root);
  auto m = ir::ImportOnnxFile(GetParam().path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ir::Model folded = *m;
  auto r = FoldLayers(folded.graph);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->nodes_after, r->nodes_before);
  std::cout << GetParam().path << ": " << r->nodes_before << " -> " << r->nodes_after
            << " nodes (affine " << r->affine << ", batch norms " << r->batch_norms
            << ", 1x1 convs " << r->conv_chains << ")\n";
  const Shape in = FirstInputShape(m->graph);
  const std::vector<std::pair<std::string, Tensor>> feeds = {
      {m->graph.inputs[0], RandomTensor(in, 5, 0.0f, 1.0f)}};
  auto want = RunModel(*m, OptimizationLevel::kNone, feeds);
  auto got = RunModel(folded, OptimizationLevel::kNone, feeds);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(want->size(), got->size());
  for (size_t i = 0; i < want->size(); ++i)
    EXPECT_TRUE(TensorsNear((*want)[i], (*got)[i], 1e-4, 1e-4)) << "output " << i;
}

INSTANTIATE_TEST_SUITE_P(
    Models, FoldRealModel,
    ::testing::Values(CompressModelCase{SUPERNOVA_ASSETS_DIR "/torchvision/mobilenet_v2.onnx",
                                        ModelRoot::kShared},
                      CompressModelCase{SUPERNOVA_SHARED_MODELS_DIR "/centernet_mbv3_coco_512.onnx",
                                        ModelRoot::kShared}),
    CompressCaseName);

}  // namespace
}  // namespace supernova::testing
