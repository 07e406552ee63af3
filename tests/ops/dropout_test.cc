#include <gmock/gmock.h>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Dropout, InferenceIsIdentityWithFullMask) {
  auto x = Tensor::FromVector<float>({1, -2, 3}, {3});
  auto out = OpTest("Dropout", 13).Input("x", x).Outputs(2).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(x, (*out)[0]));
  EXPECT_EQ((*out)[1].dtype(), DataType::kBool);
  EXPECT_THAT(Values((*out)[1]), ::testing::ElementsAre(1, 1, 1));
}

TEST(Dropout, Opset7MaskHasInputType) {
  auto x = Tensor::FromVector<float>({1, 2}, {2});
  auto out = OpTest("Dropout", 7).Attr("ratio", 0.3f).Input("x", x).Outputs(2).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[1].dtype(), DataType::kFloat32);
  EXPECT_THAT(Values((*out)[1]), ::testing::ElementsAre(1, 1));
}

TEST(Dropout, TrainingWithZeroRatioIsIdentity) {
  auto x = Tensor::FromVector<float>({4, 5}, {2});
  auto out = OpTest("Dropout", 13)
                 .Input("x", x)
                 .Input("ratio", Tensor::Scalar<float>(0.0f))
                 .Input("training", Tensor::Scalar<bool>(true))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(x, (*out)[0]));
}

// np.random.seed(0); np.random.random_sample(10), NumPy's well-known first draws of seed 0.
// Ratio 0.6 keeps the draws >= 0.6: elements 1, 2, 5, 7 and 8.
const std::vector<double> kNumPySeed0 = {0.5488135, 0.7151894, 0.6027634, 0.5448832, 0.4236548,
                                         0.6458941, 0.4375872, 0.8917730, 0.9636628, 0.3834415};

TEST(Dropout, SeededTrainingFollowsNumPysRecipe) {
  auto out = OpTest("Dropout", 13)
                 .Attr("seed", int64_t{0})
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {2, 5}))
                 .Input("ratio", Tensor::Scalar<float>(0.6f))
                 .Input("training", Tensor::Scalar<bool>(true))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Kept elements are scaled by 1 / (1 - 0.6).
  EXPECT_TRUE(TensorsNear(
      Tensor::FromVector<float>({0, 5, 7.5f, 0, 0, 15, 0, 20, 22.5f, 0}, {2, 5}), (*out)[0]));
  EXPECT_EQ((*out)[1].dtype(), DataType::kBool);
  std::vector<double> want_mask;
  for (double u : kNumPySeed0) want_mask.push_back(u >= 0.6 ? 1 : 0);
  EXPECT_EQ(Values((*out)[1]), want_mask);
}

TEST(Dropout, SeededTrainingInDoubleAndFloat16) {
  std::vector<Float16> h;
  for (float f : {1.0f, 2.0f, 3.0f, 4.0f}) h.push_back(Float16::FromFloat(f));
  // Ratio 0.5 keeps all four first draws (0.549, 0.715, 0.603, 0.545), doubled.
  auto out = OpTest("Dropout", 13)
                 .Attr("seed", int64_t{0})
                 .Input("x", Tensor::FromVector<Float16>(h, {4}))
                 .Input("ratio", Tensor::Scalar<float>(0.5f))
                 .Input("training", Tensor::Scalar<bool>(true))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(2, 4, 6, 8));
  // 0.55 drops draw 0 (0.5488) as well.
  out = OpTest("Dropout", 13)
            .Attr("seed", int64_t{0})
            .Input("x", Tensor::FromVector<double>({1, 2, 3, 4}, {4}))
            .Input("ratio", Tensor::Scalar<double>(0.55))
            .Input("training", Tensor::Scalar<bool>(true))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<double>({0, 2 / 0.45, 3 / 0.45, 0}, {4}), (*out)[0],
                          1e-12, 0));
}

TEST(Dropout, UnseededTrainingKeepsAboutOneMinusRatio) {
  const std::vector<float> ones(20000, 1.0f);
  auto run = [&] {
    return OpTest("Dropout", 13)
        .Input("x", Tensor::FromVector<float>(ones, {20000}))
        .Input("ratio", Tensor::Scalar<float>(0.25f))
        .Input("training", Tensor::Scalar<bool>(true))
        .Run();
  };
  auto a = run(), b = run();
  ASSERT_TRUE(a.ok() && b.ok());
  int kept = 0;
  for (double v : Values((*a)[0])) {
    ASSERT_TRUE(v == 0 || std::fabs(v - 1 / 0.75) < 1e-6) << v;
    kept += v != 0;
  }
  // 15000 expected; the binomial's standard deviation is about 61.
  EXPECT_NEAR(kept, 15000, 400);
  // Without a seed each run draws a fresh mask.
  EXPECT_NE(Values((*a)[0]), Values((*b)[0]));
}

TEST(Dropout, TrainingRatioOutsideZeroToOneIsAnError) {
  for (float r : {1.0f, -0.5f}) {
    auto out = OpTest("Dropout", 13)
                   .Input("x", Tensor::FromVector<float>({4, 5}, {2}))
                   .Input("ratio", Tensor::Scalar<float>(r))
                   .Input("training", Tensor::Scalar<bool>(true))
                   .Run();
    ASSERT_FALSE(out.ok()) << r;
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(out.status().message().find("outside [0, 1)"), std::string::npos);
  }
}

}  // namespace
}  // namespace supernova::testing
