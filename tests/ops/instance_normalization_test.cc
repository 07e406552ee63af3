#include <cmath>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

TEST(InstanceNormalization, HandComputed) {
  // Plane {1, 3}: mean 2, variance 1; plane {10, 14}: mean 12, variance 4. Both normalise
  // to {-1, 1} before the per-channel scale and shift.
  Tensor x = Tensor::FromVector<float>({1, 3, 10, 14}, {1, 2, 2});
  auto out = OpTest("InstanceNormalization")
                 .Input("x", x)
                 .ConstInput("scale", Tensor::FromVector<float>({2, 1}, {2}))
                 .ConstInput("b", Tensor::FromVector<float>({1, 5}, {2}))
                 .Attr("epsilon", 0.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({-1, 3, 4, 6}, {1, 2, 2}), (*out)[0]));
}

TEST(InstanceNormalization, RandomAgainstFormula) {
  const Shape xs = {2, 3, 4, 5};
  Tensor x = RandomTensor(xs, 1);
  Tensor scale = RandomTensor({3}, 2), bias = RandomTensor({3}, 3);
  const float eps = 1e-2f;
  auto out = OpTest("InstanceNormalization")
                 .Input("x", x)
                 .Input("scale", scale)
                 .Input("b", bias)
                 .Attr("epsilon", eps)
                 .Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Tensor want(DataType::kFloat32, xs);
  for (int64_t p = 0; p < 6; ++p) {
    const float* xp = x.data<float>() + p * 20;
    double mean = 0, var = 0;
    for (int i = 0; i < 20; ++i) mean += xp[i] / 20.0;
    for (int i = 0; i < 20; ++i) var += (xp[i] - mean) * (xp[i] - mean) / 20.0;
    for (int i = 0; i < 20; ++i)
      want.data<float>()[p * 20 + i] =
          static_cast<float>((xp[i] - mean) / std::sqrt(var + eps) * scale.data<float>()[p % 3] +
                             bias.data<float>()[p % 3]);
  }
  EXPECT_TRUE(TensorsNear(want, (*out)[0], 1e-5, 1e-5));
}

TEST(InstanceNormalization, RejectsWrongScaleSize) {
  auto out = OpTest("InstanceNormalization")
                 .Input("x", RandomTensor({1, 3, 2, 2}, 1))
                 .ConstInput("scale", RandomTensor({2}, 2))
                 .ConstInput("b", RandomTensor({3}, 3))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("3 values"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
