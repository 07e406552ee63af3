// MeanVarianceNormalization: hand-computed small cases, and a random tensor against the
// formula evaluated per group by a direct loop here.
#include <gmock/gmock.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::HasSubstr;

TEST(MeanVarianceNormalization, DefaultAxesArePerChannel) {
  // Channel 0 {1, 3}: mean 2, std 1. Channel 1 {10, 14}: mean 12, std 2. Both become {-1, 1}.
  auto out = OpTest("MeanVarianceNormalization", 13)
                 .Input("x", Floats({1, 3, 10, 14}, {1, 2, 1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-1, 1, -1, 1}, {1, 2, 1, 2}), (*out)[0]));
}

TEST(MeanVarianceNormalization, NegativeAndCustomAxes) {
  // Along the last axis of [2, 4]: row {0, 0, 0, 4}: mean 1, std sqrt(3);
  // row {2, 4, 6, 8}: mean 5, std sqrt(5).
  const double r3 = std::sqrt(3.0), r5 = std::sqrt(5.0);
  const Tensor want =
      Floats({static_cast<float>(-1 / r3), static_cast<float>(-1 / r3), static_cast<float>(-1 / r3),
              static_cast<float>(3 / r3), static_cast<float>(-3 / r5), static_cast<float>(-1 / r5),
              static_cast<float>(1 / r5), static_cast<float>(3 / r5)},
             {2, 4});
  for (int64_t axis : {int64_t{1}, int64_t{-1}}) {
    auto out = OpTest("MeanVarianceNormalization", 9)
                   .Attr("axes", std::vector<int64_t>{axis})
                   .Input("x", Floats({0, 0, 0, 4, 2, 4, 6, 8}, {2, 4}))
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(want, (*out)[0])) << "axis " << axis;
  }
}

TEST(MeanVarianceNormalization, ConstantGroupGivesZeros) {
  // std 0: the epsilon keeps 0 / 1e-9 finite.
  auto out = OpTest("MeanVarianceNormalization", 13)
                 .Attr("axes", std::vector<int64_t>{0})
                 .Input("x", Tensor::FromVector<double>({5, 5, 5}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<double>({0, 0, 0}, {3}), (*out)[0], 0, 0));
}

TEST(MeanVarianceNormalization, NonContiguousAxesAgainstFormula) {
  // Axes {0, 2} of [3, 4, 5, 2]: each (c, w) pair is a group of 15 elements.
  const Shape s = {3, 4, 5, 2};
  const Tensor x = nn::RandomTensor(s, 5, -3.0f, 7.0f);
  auto out = OpTest("MeanVarianceNormalization", 13)
                 .Attr("axes", std::vector<int64_t>{0, 2})
                 .Input("x", x)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Tensor want(DataType::kFloat32, s);
  const float* px = x.data<float>();
  auto at = [](int64_t a, int64_t b, int64_t c, int64_t d) {
    return ((a * 4 + b) * 5 + c) * 2 + d;
  };
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t d = 0; d < 2; ++d) {
      double sum = 0, sq = 0;
      for (int64_t a = 0; a < 3; ++a)
        for (int64_t c = 0; c < 5; ++c) {
          sum += px[at(a, b, c, d)];
          sq += double{px[at(a, b, c, d)]} * px[at(a, b, c, d)];
        }
      const double mean = sum / 15, sd = std::sqrt(sq / 15 - mean * mean);
      for (int64_t a = 0; a < 3; ++a)
        for (int64_t c = 0; c < 5; ++c)
          want.data<float>()[at(a, b, c, d)] =
              static_cast<float>((px[at(a, b, c, d)] - mean) / (sd + 1e-9));
    }
  EXPECT_TRUE(TensorsNear(want, (*out)[0], 1e-5, 1e-5));
}

TEST(MeanVarianceNormalization, Float16) {
  std::vector<Float16> v;
  for (float f : {1.0f, 3.0f, 10.0f, 14.0f}) v.push_back(Float16::FromFloat(f));
  auto out = OpTest("MeanVarianceNormalization", 13)
                 .Input("x", Tensor::FromVector<Float16>(v, {1, 2, 1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(-1, 1, -1, 1));
}

TEST(MeanVarianceNormalization, BadAxesAreErrors) {
  // The default axes [0, 2, 3] need rank 4.
  auto out = OpTest("MeanVarianceNormalization", 13).Input("x", Floats({1, 2}, {1, 2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("axis 2 out of range for rank 2"));
  out = OpTest("MeanVarianceNormalization", 13)
            .Attr("axes", std::vector<int64_t>{1, -1})
            .Input("x", Floats({1, 2}, {1, 2}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("axis 1 given twice"));
}

}  // namespace
}  // namespace supernova::testing
