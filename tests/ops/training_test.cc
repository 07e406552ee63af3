// The preview training domain's optimizers, one step each, against values worked by hand from
// the operator definitions.
#include <gmock/gmock.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

constexpr const char* kDomain = "ai.onnx.preview.training";

Tensor F(float v) { return Tensor::FromVector<float>({v}, {1}); }
Tensor Rate(float v) { return Tensor::FromVector<float>({v}, {}); }
Tensor Step(int64_t t) { return Tensor::FromVector<int64_t>({t}, {}); }

// H' = 2 + (-1)^2 = 3; X' = 1 - 0.1 * (-1) / (sqrt(3) + 1e-6) = 1.0577349.
TEST(Adagrad, OneStep) {
  auto out = OpTest("Adagrad", 1, kDomain)
                 .Input("R", Rate(0.1f))
                 .Input("T", Step(0))
                 .Input("X", F(1))
                 .Input("G", F(-1))
                 .Input("H", F(2))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NEAR(Values((*out)[0])[0], 1.0577349, 1e-6);
  EXPECT_NEAR(Values((*out)[1])[0], 3.0, 1e-6);
}

// G' = 2; V' = 0.9 * 1 + 0.5 * 2 = 1.9; standard X' = 1 - 0.1 * 1.9 = 0.81; nesterov
// X' = 1 - 0.1 * (2 + 0.9 * 1.9) = 0.629. At T = 0 beta counts as 1: V' = 0.9 + 2 = 2.9.
TEST(Momentum, StandardNesterovAndTheFirstStep) {
  auto run = [](const std::string& mode, int64_t t) {
    return OpTest("Momentum", 1, kDomain)
        .Attr("alpha", 0.9f)
        .Attr("beta", 0.5f)
        .Attr("mode", mode)
        .Attr("norm_coefficient", 0.0f)
        .Input("R", Rate(0.1f))
        .Input("T", Step(t))
        .Input("X", F(1))
        .Input("G", F(2))
        .Input("V", F(1))
        .Outputs(2)
        .Run();
  };
  auto out = run("standard", 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NEAR(Values((*out)[0])[0], 0.81, 1e-6);
  EXPECT_NEAR(Values((*out)[1])[0], 1.9, 1e-6);
  out = run("nesterov", 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NEAR(Values((*out)[0])[0], 0.629, 1e-6);
  out = run("standard", 0);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NEAR(Values((*out)[1])[0], 2.9, 1e-6);
  EXPECT_FALSE(run("heavy_ball", 1).ok());
  // alpha, beta, mode and norm_coefficient have no defaults.
  EXPECT_FALSE(OpTest("Momentum", 1, kDomain)
                   .Input("R", Rate(0.1f))
                   .Input("T", Step(1))
                   .Input("X", F(1))
                   .Input("G", F(2))
                   .Input("V", F(1))
                   .Outputs(2)
                   .Run()
                   .ok());
}

// V' = 0.1 * 2 = 0.2; H' = 0.001 * 4 = 0.004; r = 0.1 * sqrt(0.001) / 0.1 = 0.031623;
// X' = 1 - 0.031623 * 0.2 / sqrt(0.004) = 1 - 0.1 = 0.9 (epsilon 0).
TEST(Adam, OneStepWithBiasCorrection) {
  auto out = OpTest("Adam", 1, kDomain)
                 .Attr("epsilon", 0.0f)
                 .Input("R", Rate(0.1f))
                 .Input("T", Step(1))
                 .Input("X", F(1))
                 .Input("G", F(2))
                 .Input("V", F(0))
                 .Input("H", F(0))
                 .Outputs(3)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NEAR(Values((*out)[0])[0], 0.9, 1e-6);
  EXPECT_NEAR(Values((*out)[1])[0], 0.2, 1e-7);
  EXPECT_NEAR(Values((*out)[2])[0], 0.004, 1e-7);  // beta is a float32 attribute
}

TEST(Adam, StateMustMatchX) {
  auto out = OpTest("Adam", 1, kDomain)
                 .Input("R", Rate(0.1f))
                 .Input("T", Step(1))
                 .Input("X", F(1))
                 .Input("G", F(2))
                 .Input("V", Tensor::FromVector<float>({0, 0}, {2}))
                 .Input("H", F(0))
                 .Outputs(3)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("must match"), std::string::npos)
      << out.status().ToString();
}

}  // namespace
}  // namespace supernova::testing
