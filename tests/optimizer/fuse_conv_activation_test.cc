#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::FuseConvActivation;
using ::testing::ElementsAre;

struct ActCase {
  std::string op;
  std::vector<float> expected_params;
};

void PrintTo(const ActCase& c, std::ostream* os) { *os << c.op; }

class FuseConvActivationTest : public ::testing::TestWithParam<ActCase> {};

TEST_P(FuseConvActivationTest, FusesIntoFusedConv) {
  const ActCase& c = GetParam();
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string conv = b.Op(
      "Conv", {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 2)), b.Const("b", RandomTensor({4}, 3))});
  SetInts(b.NodeOf(conv), "pads", {1, 1, 1, 1});
  std::vector<std::string> in = {conv};
  if (c.op == "Clip") {
    in.push_back(b.Const("lo", Tensor::Scalar<float>(-0.25f)));
    in.push_back(b.Const("hi", Tensor::Scalar<float>(0.5f)));
  }
  const std::string y = b.Op(c.op, in);
  if (c.op == "LeakyRelu") SetFloat(b.NodeOf(y), "alpha", 0.3f);
  if (c.op == "HardSigmoid") {
    SetFloat(b.NodeOf(y), "alpha", 0.25f);
    SetFloat(b.NodeOf(y), "beta", 0.4f);
  }
  b.Output(y);
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), FuseConvActivation, b.feeds());
  ASSERT_THAT(OpTypes(g), ElementsAre("FusedConv"));
  const ir::Node& f = g.nodes[0];
  EXPECT_EQ(f.domain, "com.supernova");
  EXPECT_EQ(f.AttrString("activation", ""), c.op);
  EXPECT_EQ(f.AttrFloats("activation_params"), c.expected_params);
  EXPECT_THAT(f.AttrInts("pads"), ElementsAre(1, 1, 1, 1));
  EXPECT_EQ(f.outputs[0], y);
  EXPECT_EQ(g.Opset("com.supernova"), 1);
}

INSTANTIATE_TEST_SUITE_P(Activations, FuseConvActivationTest,
                         ::testing::Values(ActCase{"Relu", {}}, ActCase{"LeakyRelu", {0.3f}},
                                           ActCase{"Sigmoid", {}}, ActCase{"Tanh", {}},
                                           ActCase{"HardSigmoid", {0.25f, 0.4f}},
                                           ActCase{"HardSwish", {}},
                                           ActCase{"Clip", {-0.25f, 0.5f}}),
                         [](const auto& param_info) { return param_info.param.op; });

TEST(FuseConvActivation, LeavesConvWhoseOutputIsReadElsewhere) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 1, 1}, 2))});
  b.Output(b.Op("Relu", {conv}));
  b.Output(conv);
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FuseConvActivation, &g), 0);
}

TEST(FuseConvActivation, LeavesClipWithRuntimeBounds) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string conv = b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 1, 1}, 2))});
  b.Output(b.Op("Clip", {conv, b.Input("lo", {})}));
  ir::Graph g;
  EXPECT_EQ(ApplyPass(b.model(), FuseConvActivation, &g), 0);
}

}  // namespace
}  // namespace supernova::testing
