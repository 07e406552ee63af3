#include <gmock/gmock.h>

#include <cmath>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

// Softmax of x (shape [outer, len, inner]) along the middle dim, computed directly.
std::vector<float> Reference(const std::vector<float>& x, int64_t outer, int64_t len, int64_t inner,
                             bool log) {
  std::vector<float> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t l = 0; l < len; ++l) sum += std::exp(x[(o * len + l) * inner + i]);
      for (int64_t l = 0; l < len; ++l) {
        const size_t k = static_cast<size_t>((o * len + l) * inner + i);
        y[k] = static_cast<float>(log ? x[k] - std::log(sum) : std::exp(x[k]) / sum);
      }
    }
  return y;
}

std::vector<float> Ramp(size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = std::sin(static_cast<float>(i)) * 3.0f;
  return x;
}

TEST(Softmax, Opset13IsAlongOneAxis) {
  const auto x = Ramp(2 * 3 * 4);
  auto out = OpTest("Softmax", 13).Attr("axis", int64_t{1}).Input("x", Floats(x, {2, 3, 4})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Reference(x, 2, 3, 4, false), {2, 3, 4}), (*out)[0]));
  // Default axis is the last one.
  out = OpTest("Softmax", 13).Input("x", Floats(x, {2, 3, 4})).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(TensorsNear(Floats(Reference(x, 6, 4, 1, false), {2, 3, 4}), (*out)[0]));
}

TEST(Softmax, BeforeOpset13CoercesTo2D) {
  const auto x = Ramp(2 * 3 * 4);
  // axis 1 (the default): rows of 3*4 elements.
  auto out = OpTest("Softmax", 11).Input("x", Floats(x, {2, 3, 4})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Reference(x, 2, 12, 1, false), {2, 3, 4}), (*out)[0]));
  out = OpTest("LogSoftmax", 11).Attr("axis", int64_t{0}).Input("x", Floats(x, {2, 3, 4})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Reference(x, 1, 24, 1, true), {2, 3, 4}), (*out)[0]));
}

TEST(Softmax, LargeValuesAreStable) {
  auto out = OpTest("Softmax").Input("x", Floats({1000, 1001, 1002}, {1, 3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Reference({0, 1, 2}, 1, 3, 1, false), {1, 3}), (*out)[0]));
}

TEST(Softmax, LargeStridedMultiThreaded) {
  const auto x = Ramp(4 * 80 * 500);
  auto out =
      OpTest("LogSoftmax").Attr("axis", int64_t{1}).Input("x", Floats(x, {4, 80, 500})).Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Floats(Reference(x, 4, 80, 500, true), {4, 80, 500}), (*out)[0], 1e-5, 1e-5));
}

TEST(Hardmax, FirstMaximumWins) {
  auto out = OpTest("Hardmax")
                 .Attr("axis", int64_t{0})
                 .Input("x", Floats({1, 5, 3, 5, 2, 5}, {3, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 1, 1, 0, 0, 0));
}

TEST(Softmax, AxisOutOfRangeIsAnError) {
  auto out = OpTest("Softmax").Attr("axis", int64_t{3}).Input("x", Floats({1, 2}, {1, 2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("axis"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
