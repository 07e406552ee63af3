#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "optimizer/graph_builder.h"
#include "optimizer/optimizer.h"
#include "optimizer/passes.h"

namespace supernova::testing {
namespace {

using optimizer::FuseHardSwish;
using ::testing::ElementsAre;

// x * Clip(x + 3, 0, 6) scaled by 1/6, in the four orders exporters write.
struct Form {
  std::string name;
  bool scale_first;  // (Clip / 6) * x instead of (x * Clip) / 6
  bool divide;       // Div by 6 instead of Mul by 1/6
  bool x_second;     // Mul(Clip, x) instead of Mul(x, Clip)
};

void PrintTo(const Form& f, std::ostream* os) { *os << f.name; }

class FuseHardSwishTest : public ::testing::TestWithParam<Form> {};

TEST_P(FuseHardSwishTest, BecomesOneHardSwish) {
  const Form& f = GetParam();
  GraphBuilder b;
  const std::string in = b.Input("x", {1, 4, 5, 5});
  // A Relu first, so x is a computed value (as after a convolution) and the fused output differs
  // from the input: values cover both clip bounds (x + 3 < 0 and > 6).
  const std::string x = b.Op("Relu", {b.Op("Sub", {in, b.Const("c", Tensor::Scalar<float>(-1))})});
  const std::string shifted = b.Op("Add", {x, b.Const("three", Tensor::Scalar<float>(3))});
  const std::string clipped = b.Op("Clip", {shifted, b.Const("lo", Tensor::Scalar<float>(0)),
                                            b.Const("hi", Tensor::Scalar<float>(6))});
  auto scale = [&](const std::string& v) {
    return f.divide ? b.Op("Div", {v, b.Const("six", Tensor::Scalar<float>(6))})
                    : b.Op("Mul", {b.Const("sixth", Tensor::Scalar<float>(1.f / 6.f)), v});
  };
  auto times_x = [&](const std::string& v) {
    return f.x_second ? b.Op("Mul", {v, x}) : b.Op("Mul", {x, v});
  };
  const std::string y = f.scale_first ? times_x(scale(clipped)) : scale(times_x(clipped));
  b.Output(y);
  ir::Graph g = ExpectPassKeepsOutputs(b.model(), FuseHardSwish, b.feeds());
  ASSERT_THAT(OpTypes(g), ElementsAre("Sub", "Relu", "HardSwish"));
  EXPECT_EQ(g.nodes[2].inputs, std::vector<std::string>{x});
  EXPECT_EQ(g.nodes[2].outputs[0], y);
}

INSTANTIATE_TEST_SUITE_P(Forms, FuseHardSwishTest,
                         ::testing::Values(Form{"ProductThenDiv", false, true, false},
                                           Form{"ProductThenMulSixth", false, false, true},
                                           Form{"DivThenProduct", true, true, true},
                                           Form{"MulSixthThenProduct", true, false, false}),
                         [](const auto& param_info) { return param_info.param.name; });

// TensorFlow's form: (x * c) * Clip(x + 3, 0, 6) with c = 1/6 rounded to half precision, and
// the squeeze-and-excitation gate c * Clip(x + 3, 0, 6): HardSwish or HardSigmoid times 6c.
TEST(FuseHardSwish, ScaledFormsKeepTheirFactor) {
  for (bool gate : {false, true}) {
    for (float c : {0.1666259765625f, 1.f / 6.f}) {
      SCOPED_TRACE(std::string(gate ? "gate" : "swish") + " c=" + std::to_string(c));
      GraphBuilder b;
      const std::string in = b.Input("x", {1, 4, 5, 5});
      const std::string x =
          b.Op("Relu", {b.Op("Sub", {in, b.Const("one", Tensor::Scalar<float>(-1))})});
      const std::string clipped =
          b.Op("Clip",
               {b.Op("Add", {b.Const("three", Tensor::Scalar<float>(3)), x}),
                b.Const("lo", Tensor::Scalar<float>(0)), b.Const("hi", Tensor::Scalar<float>(6))});
      const std::string scale = b.Const("c", Tensor::Scalar<float>(c));
      const std::string y =
          gate ? b.Op("Mul", {scale, clipped}) : b.Op("Mul", {clipped, b.Op("Mul", {x, scale})});
      b.Output(y);
      ir::Graph g = ExpectPassKeepsOutputs(b.model(), FuseHardSwish, b.feeds());
      const std::string act = gate ? "HardSigmoid" : "HardSwish";
      if (c == 1.f / 6.f)
        EXPECT_THAT(OpTypes(g), ElementsAre("Sub", "Relu", act));
      else
        EXPECT_THAT(OpTypes(g), ElementsAre("Sub", "Relu", act, "Mul"));
      EXPECT_EQ(g.outputs[0], y);
    }
  }
}

TEST(FuseHardSwish, LeavesOtherConstantsAndSharedValues) {
  {  // Clip(x + 3, 0, 5): not HardSwish
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 4});
    const std::string c = b.Op(
        "Clip", {b.Op("Add", {x, b.Const("three", Tensor::Scalar<float>(3))}),
                 b.Const("lo", Tensor::Scalar<float>(0)), b.Const("hi", Tensor::Scalar<float>(5))});
    b.Output(b.Op("Div", {b.Op("Mul", {x, c}), b.Const("six", Tensor::Scalar<float>(6))}));
    ir::Graph g;
    EXPECT_EQ(ApplyPass(b.model(), FuseHardSwish, &g), 0);
  }
  {  // the clipped value is also a graph output: it must survive
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 4});
    const std::string c = b.Op(
        "Clip", {b.Op("Add", {x, b.Const("three", Tensor::Scalar<float>(3))}),
                 b.Const("lo", Tensor::Scalar<float>(0)), b.Const("hi", Tensor::Scalar<float>(6))});
    b.Output(b.Op("Div", {b.Op("Mul", {x, c}), b.Const("six", Tensor::Scalar<float>(6))}));
    b.Output(c);
    ir::Graph g;
    EXPECT_EQ(ApplyPass(b.model(), FuseHardSwish, &g), 0);
  }
}

// HardSwish is opset 14: in an older model the fusion is this runtime's own business, so the
// portable passes (what a model written for other runtimes gets) leave the pattern alone.
TEST(FuseHardSwish, PortableOnlyFromOpset14) {
  for (int64_t opset : {13, 14}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    GraphBuilder b(opset);
    const std::string x = b.Input("x", {1, 4});
    const std::string c = b.Op(
        "Clip", {b.Op("Add", {x, b.Const("three", Tensor::Scalar<float>(3))}),
                 b.Const("lo", Tensor::Scalar<float>(0)), b.Const("hi", Tensor::Scalar<float>(6))});
    b.Output(b.Op("Div", {b.Op("Mul", {x, c}), b.Const("six", Tensor::Scalar<float>(6))}));
    ir::Graph portable = b.model().graph, cpu = b.model().graph;
    ASSERT_TRUE(optimizer::Optimize(portable, OptimizationLevel::kAll, nullptr,
                                    optimizer::PassSet::kPortable)
                    .ok());
    ASSERT_TRUE(optimizer::Optimize(cpu, OptimizationLevel::kAll).ok());
    EXPECT_EQ(OpTypes(portable).back(), opset >= 14 ? "HardSwish" : "Div");
    EXPECT_EQ(OpTypes(cpu).back(), "HardSwish");
  }
}

}  // namespace
}  // namespace supernova::testing
