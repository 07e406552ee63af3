#include <gmock/gmock.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

// Runs a one-input op on xs and compares with f applied in double.
template <typename F>
void ExpectUnary(const std::string& op, const std::vector<float>& xs, F f) {
  auto out = OpTest(op).Input("x", Floats(xs, {static_cast<int64_t>(xs.size())})).Run();
  ASSERT_TRUE(out.ok()) << op << ": " << out.status().ToString();
  std::vector<float> expected;
  for (float x : xs) expected.push_back(static_cast<float>(f(static_cast<double>(x))));
  EXPECT_TRUE(TensorsNear(Floats(expected, {static_cast<int64_t>(xs.size())}), (*out)[0])) << op;
}

TEST(Unary, MathFunctionsMatchFormulas) {
  const std::vector<float> xs = {-2.5f, -0.5f, 0.0f, 0.75f, 3.0f};
  ExpectUnary("Relu", xs, [](double x) { return x > 0 ? x : 0; });
  ExpectUnary("Sigmoid", xs, [](double x) { return 1 / (1 + std::exp(-x)); });
  ExpectUnary("Tanh", xs, [](double x) { return std::tanh(x); });
  ExpectUnary("HardSwish", xs,
              [](double x) { return x * std::min(1.0, std::max(0.0, x / 6 + 0.5)); });
  ExpectUnary("HardSigmoid", xs,
              [](double x) { return std::min(1.0, std::max(0.0, 0.2 * x + 0.5)); });
  ExpectUnary("LeakyRelu", xs, [](double x) { return x < 0 ? 0.01 * x : x; });
  ExpectUnary("Erf", xs, [](double x) { return std::erf(x); });
  ExpectUnary("Exp", xs, [](double x) { return std::exp(x); });
  ExpectUnary("Neg", xs, [](double x) { return -x; });
  ExpectUnary("Abs", xs, [](double x) { return std::fabs(x); });
  ExpectUnary("Floor", xs, [](double x) { return std::floor(x); });
  ExpectUnary("Ceil", xs, [](double x) { return std::ceil(x); });
  ExpectUnary("Sign", xs, [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); });
  ExpectUnary("Softsign", xs, [](double x) { return x / (1 + std::fabs(x)); });
  ExpectUnary("Softplus", xs, [](double x) { return std::log(1 + std::exp(x)); });
  ExpectUnary("Elu", xs, [](double x) { return x < 0 ? std::exp(x) - 1 : x; });
  ExpectUnary("Sin", xs, [](double x) { return std::sin(x); });
  ExpectUnary("Cos", xs, [](double x) { return std::cos(x); });
  ExpectUnary("Round", {-2.5f, -0.5f, 0.5f, 1.5f, 2.4f},
              [](double x) { return std::nearbyint(x); });  // halves to even: -2,-0,0,2,2
  const std::vector<float> pos = {0.25f, 1.0f, 4.0f};
  ExpectUnary("Sqrt", pos, [](double x) { return std::sqrt(x); });
  ExpectUnary("Log", pos, [](double x) { return std::log(x); });
  ExpectUnary("Reciprocal", pos, [](double x) { return 1 / x; });
}

TEST(Unary, SoftplusDoesNotOverflow) {
  auto out = OpTest("Softplus").Input("x", Floats({100.0f, -100.0f}, {2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({100.0f, 3.7200760e-44f}, {2}), (*out)[0]));
}

TEST(Unary, IntegerReluAbsNeg) {
  auto x = Tensor::FromVector<int32_t>({-3, 0, 5}, {3});
  auto out = OpTest("Relu", 14).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 5));
  out = OpTest("Abs").Input("x", x).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 0, 5));
  out = OpTest("Neg").Input("x", x).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 0, -5));
}

TEST(Unary, LargeInputMultiThreaded) {
  std::vector<float> xs(100000);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 200) * 0.05f - 5.0f;
  auto out = OpTest("Sigmoid").Input("x", Floats(xs, {100000})).Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (size_t i = 0; i < xs.size(); ++i)
    ASSERT_NEAR((*out)[0].data<float>()[i], 1.0 / (1.0 + std::exp(-xs[i])), 1e-6);
}

TEST(Unary, FloatOnlyOpRejectsIntegers) {
  auto out = OpTest("Sqrt").Input("x", Tensor::FromVector<int32_t>({4}, {1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(out.status().message().find("int32"), std::string::npos);
}

TEST(Unary, NotAndPredicates) {
  auto out = OpTest("Not").Input("x", Tensor::FromVector<bool>({true, false}, {2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 1));
  const float inf = std::numeric_limits<float>::infinity();
  auto x = Floats({inf, -inf, std::nanf(""), 1}, {4});
  out = OpTest("IsInf").Attr("detect_negative", int64_t{0}).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 0, 0, 0));
  out = OpTest("IsNaN").Input("x", x).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 1, 0));
}

TEST(Clip, BoundsAsInputsFromOpset11) {
  auto x = Floats({-5, 0.5f, 5}, {3});
  auto out = OpTest("Clip", 13)
                 .Input("x", x)
                 .Input("lo", Floats({-1}, {}))
                 .Input("hi", Floats({1}, {}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-1, 0.5, 1));
  out = OpTest("Clip", 13).Input("x", x).NoInput().Input("hi", Floats({0}, {})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-5, 0, 0));
}

TEST(Clip, BoundsAsAttributesBeforeOpset11) {
  auto out = OpTest("Clip", 6).Attr("min", 0.0f).Input("x", Floats({-5, 0.5f, 5}, {3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0.5, 5));
}

TEST(Clip, IntegerAndBadBound) {
  auto x = Tensor::FromVector<int8_t>({-100, 3, 100}, {3});
  auto out =
      OpTest("Clip", 12).Input("x", x).Input("lo", Tensor::FromVector<int8_t>({-10}, {})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-10, 3, 100));
  out = OpTest("Clip", 12).Input("x", x).Input("lo", Tensor::FromVector<int8_t>({1, 2}, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("scalar"), std::string::npos);
}

// Mish (opset 18) and Gelu (opset 20), against their formulas evaluated by hand:
// mish(1) = tanh(ln(1 + e)) = 0.8650983882673103, gelu(1) = 0.5 (1 + erf(1/sqrt 2)) =
// 0.8413447460685429, gelu_tanh(1) = 0.5 (1 + tanh(sqrt(2/pi) 1.044715)) = 0.8411919906082768.
TEST(Unary, MishAndGelu) {
  auto mish = OpTest("Mish", 18).Input("x", Tensor::FromVector<float>({1, 0, -30}, {3})).Run();
  ASSERT_TRUE(mish.ok()) << mish.status().ToString();
  EXPECT_NEAR(Values((*mish)[0])[0], 0.8650983882673103, 1e-6);
  EXPECT_EQ(Values((*mish)[0])[1], 0);
  EXPECT_NEAR(Values((*mish)[0])[2], 0, 1e-11);
  auto gelu = OpTest("Gelu", 20).Input("x", Tensor::FromVector<double>({1}, {1})).Run();
  ASSERT_TRUE(gelu.ok()) << gelu.status().ToString();
  EXPECT_NEAR(Values((*gelu)[0])[0], 0.8413447460685429, 1e-12);
  gelu = OpTest("Gelu", 20)
             .Attr("approximate", std::string("tanh"))
             .Input("x", Tensor::FromVector<double>({1}, {1}))
             .Run();
  ASSERT_TRUE(gelu.ok()) << gelu.status().ToString();
  EXPECT_NEAR(Values((*gelu)[0])[0], 0.8411919906082768, 1e-12);
  gelu = OpTest("Gelu", 20)
             .Attr("approximate", std::string("sigmoid"))
             .Input("x", Tensor::FromVector<float>({1}, {1}))
             .Run();
  EXPECT_FALSE(gelu.ok());
}

TEST(Unary, BitwiseNotOnIntegersOnly) {
  auto out = OpTest("BitwiseNot", 18).Input("x", Tensor::FromVector<int8_t>({0, 5, -1}, {3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-1, -6, 0));
  out = OpTest("BitwiseNot", 18).Input("x", Tensor::FromVector<float>({1}, {1})).Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing
