// LayerNormalization and GroupNormalization. Expected values come from NumPy (x.mean and x.var
// over the normalised axes, then the affine map with numpy broadcasting), printed to 6
// significant digits and kept here as literals.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

const std::vector<float> kX34 = {1, 2, 4, 9, -3, 0, 3, 6, 5, 5, 5, 7};

TEST(LayerNormalization, LastAxisWithMeanAndInvStdDev) {
  auto out = OpTest("LayerNormalization", 17)
                 .Input("x", Floats(kX34, {3, 4}))
                 .Input("scale", Floats({1, 2, 0.5f, -1}, {4}))
                 .Input("b", Floats({0, 1, -1, 0.5f}, {4}))
                 .Outputs(3)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_TRUE(
      TensorsNear(Floats({-0.973328f, -0.297771f, -1, -1.12221f, -1.34164f, 0.105573f, -0.776393f,
                          -0.84164f, -0.577346f, -0.154693f, -1.28867f, -1.23204f},
                         {3, 4}),
                  (*out)[0], 1e-5, 1e-5));
  EXPECT_TRUE(TensorsNear(Floats({4, 1.5f, 5.5f}, {3, 1}), (*out)[1]));
  EXPECT_TRUE(TensorsNear(Floats({0.324443f, 0.298142f, 1.15469f}, {3, 1}), (*out)[2], 1e-5, 1e-5));
}

TEST(LayerNormalization, NegativeAxisEpsilonAndBroadcastScaleWithoutBias) {
  const std::vector<float> x = {0,        1,        2.82843f, 5.19615f, 8,        11.1803f,
                                14.6969f, 18.5203f, 22.6274f, 27,       31.6228f, 36.4829f};
  auto out = OpTest("LayerNormalization", 17)
                 .Attr("axis", int64_t{-2})
                 .Attr("epsilon", 0.1f)
                 .Input("x", Floats(x, {2, 3, 2}))
                 .ConstInput("scale", Floats({2, 1, -1}, {3, 1}))
                 .Outputs(3)
                 .Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Floats({-2.38784f, -1.87988f, -0.475553f, 0.125805f, -0.837931f, -1.64568f,
                          -2.80456f, -1.77959f, -0.339257f, 0.246856f, -0.866507f, -1.51797f},
                         {2, 3, 2}),
                  (*out)[0], 1e-4, 1e-5));
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 1, 1}));
  EXPECT_TRUE(TensorsNear(Floats({4.70082f, 25.1584f}, {2, 1, 1}), (*out)[1], 1e-5, 1e-5));
  EXPECT_TRUE(TensorsNear(Floats({0.253981f, 0.134043f}, {2, 1, 1}), (*out)[2], 1e-5, 1e-5));
}

// Scale and bias that differ from row to row take the broadcast path.
TEST(LayerNormalization, ScaleVaryingAcrossRows) {
  auto out = OpTest("LayerNormalization", 17)
                 .Input("x", Floats({1, 4, 7, 2, 2, 8}, {2, 3}))
                 .Input("scale", Floats({1, 2, 3, -1, -2, -3}, {2, 3}))
                 .Input("b", Floats({0.5f, 1.5f}, {2, 1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Floats({-0.724744f, 0.5f, 4.17423f, 2.20711f, 2.91421f, -2.74264f}, {2, 3}),
                  (*out)[0], 1e-5, 1e-5));
}

TEST(LayerNormalization, DoubleAndStashTypeSetTheStatsDtype) {
  auto out = OpTest("LayerNormalization", 17)
                 .Attr("axis", int64_t{0})
                 .Attr("stash_type", int64_t{11})
                 .Input("x", Tensor::FromVector<double>({1, 3}, {2}))
                 .Input("scale", Tensor::FromVector<double>({1, 1}, {2}))
                 .Attr("epsilon", 0.0f)
                 .Outputs(3)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(-1.0, 1.0));
  EXPECT_EQ((*out)[1].dtype(), DataType::kFloat64);
  EXPECT_EQ((*out)[1].shape(), (Shape{1}));
  EXPECT_THAT(Values((*out)[1]), ::testing::ElementsAre(2.0));
  EXPECT_THAT(Values((*out)[2]), ::testing::ElementsAre(1.0));
}

TEST(LayerNormalization, Float16KeepsFloatStats) {
  std::vector<Float16> x, s;
  for (float v : {1.0f, 3.0f}) x.push_back(Float16::FromFloat(v));
  for (float v : {2.0f, 2.0f}) s.push_back(Float16::FromFloat(v));
  auto out = OpTest("LayerNormalization", 17)
                 .Input("x", Tensor::FromVector<Float16>(x, {1, 2}))
                 .Input("scale", Tensor::FromVector<Float16>(s, {2}))
                 .Attr("epsilon", 0.0f)
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(-2.0, 2.0));
  EXPECT_EQ((*out)[1].dtype(), DataType::kFloat32);
}

TEST(LayerNormalization, Errors) {
  auto bad_scale = OpTest("LayerNormalization", 17)
                       .Input("x", Floats(kX34, {3, 4}))
                       .Input("scale", Floats({1, 2, 3}, {3}))
                       .Run();
  ASSERT_FALSE(bad_scale.ok());
  EXPECT_EQ(bad_scale.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(bad_scale.status().message(), ::testing::HasSubstr("broadcast"));
  auto bad_axis = OpTest("LayerNormalization", 17)
                      .Attr("axis", int64_t{2})
                      .Input("x", Floats(kX34, {3, 4}))
                      .Input("scale", Floats({1}, {1}))
                      .Run();
  ASSERT_FALSE(bad_axis.ok());
  EXPECT_THAT(bad_axis.status().message(), ::testing::HasSubstr("axis"));
  auto bad_stash = OpTest("LayerNormalization", 17)
                       .Attr("stash_type", int64_t{7})
                       .Input("x", Floats(kX34, {3, 4}))
                       .Input("scale", Floats({1}, {1}))
                       .Run();
  ASSERT_FALSE(bad_stash.ok());
  EXPECT_THAT(bad_stash.status().message(), ::testing::HasSubstr("stash_type"));
  auto ints = OpTest("LayerNormalization", 17)
                  .Input("x", Tensor::FromVector<int32_t>({1, 2}, {2}))
                  .Input("scale", Tensor::FromVector<int32_t>({1, 1}, {2}))
                  .Run();
  ASSERT_FALSE(ints.ok());
  EXPECT_EQ(ints.status().code(), Status::Code::kUnimplemented);
}

const std::vector<float> kXg = {1,          3.52441f, 3.72789f, 1.42336f, -1.27041f,  -1.87677f,
                                0.161754f,  2.97096f, 3.96807f, 2.23636f, -0.632063f, -1.99997f,
                                -0.609719f, 2.2605f,  3.97182f, 2.95086f, 0.13629f,   -1.88419f,
                                -1.25296f,  1.44963f, 3.73884f, 3.50997f, 0.973446f,  -1.53866f};

TEST(GroupNormalization, Opset18ScalesPerGroup) {
  auto out = OpTest("GroupNormalization", 18)
                 .Attr("num_groups", int64_t{2})
                 .Input("x", Floats(kXg, {2, 4, 3}))
                 .Input("scale", Floats({2, -1}, {2}))
                 .Input("bias", Floats({0.5f, 1}, {2}))
                 .Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(
      Floats(
          {0.417531f,  2.78111f,  2.97163f, 0.813918f, -1.70823f,  -2.27596f,  1.45473f, 0.118176f,
           -0.356229f, 0.467683f, 1.83241f, 2.48323f,  -1.18628f,  1.58369f,   3.23523f, 2.24993f,
           -0.46633f,  -2.41624f, 2.1664f,  0.852759f, -0.259948f, -0.148702f, 1.08422f, 2.30527f},
          {2, 4, 3}),
      (*out)[0], 1e-4, 1e-5));
}

TEST(GroupNormalization, Opset21ScalesPerChannel) {
  auto out = OpTest("GroupNormalization", 21)
                 .Attr("num_groups", int64_t{2})
                 .Input("x", Floats(kXg, {2, 4, 3}))
                 .Input("scale", Floats({1, 2, 3, 4}, {4}))
                 .Input("bias", Floats({0, 0.1f, 0.2f, 0.3f}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Floats({-0.0412345f, 1.14055f,  1.23581f, 0.413918f, -2.10823f,  -2.67596f,
                          -1.16419f,   2.84547f,  4.26869f, 2.42927f,  -3.02964f,  -5.63292f,
                          -0.843141f,  0.541843f, 1.36762f, 1.84993f,  -0.86633f,  -2.81624f,
                          -3.29921f,   0.641722f, 3.97984f, 4.89481f,  -0.036871f, -4.92109f},
                         {2, 4, 3}),
                  (*out)[0], 1e-4, 1e-5));
}

TEST(GroupNormalization, Errors) {
  const auto run = [](int64_t opset, int64_t groups, Shape param_shape) {
    std::vector<float> p(static_cast<size_t>(NumElements(param_shape)), 1.0f);
    return OpTest("GroupNormalization", opset)
        .Attr("num_groups", groups)
        .Input("x", Floats(kXg, {2, 4, 3}))
        .Input("scale", Floats(p, param_shape))
        .Input("bias", Floats(p, param_shape))
        .Run();
  };
  auto per_channel_at_18 = run(18, 2, {4});
  ASSERT_FALSE(per_channel_at_18.ok());
  EXPECT_THAT(per_channel_at_18.status().message(), ::testing::HasSubstr("per group"));
  auto per_group_at_21 = run(21, 2, {2});
  ASSERT_FALSE(per_group_at_21.ok());
  EXPECT_THAT(per_group_at_21.status().message(), ::testing::HasSubstr("per channel"));
  auto not_dividing = run(18, 3, {3});
  ASSERT_FALSE(not_dividing.ok());
  EXPECT_THAT(not_dividing.status().message(), ::testing::HasSubstr("divide"));
  auto missing = OpTest("GroupNormalization", 18)
                     .Input("x", Floats(kXg, {2, 4, 3}))
                     .Input("scale", Floats({1, 1}, {2}))
                     .Input("bias", Floats({1, 1}, {2}))
                     .Run();
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("num_groups"));
}

}  // namespace
}  // namespace supernova::testing
