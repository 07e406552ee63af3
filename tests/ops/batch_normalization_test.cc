#include <cmath>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

TEST(BatchNormalization, InferenceHandComputed) {
  // Channel 0: (x - 1) / sqrt(4 + 0) * 2 + 3; channel 1: (x - 0) / 1 * 1 + 0.
  Tensor x = Tensor::FromVector<float>({1, 3, 5, 7, 1, 2, 3, 4}, {1, 2, 2, 2});
  auto out = OpTest("BatchNormalization", 15)
                 .Input("x", x)
                 .ConstInput("scale", Tensor::FromVector<float>({2, 1}, {2}))
                 .ConstInput("b", Tensor::FromVector<float>({3, 0}, {2}))
                 .ConstInput("mean", Tensor::FromVector<float>({1, 0}, {2}))
                 .ConstInput("var", Tensor::FromVector<float>({4, 1}, {2}))
                 .Attr("epsilon", 0.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Tensor::FromVector<float>({3, 5, 7, 9, 1, 2, 3, 4}, {1, 2, 2, 2}), (*out)[0]));
}

TEST(BatchNormalization, RandomAgainstFormulaAcrossOpsets) {
  const Shape xs = {3, 4, 5, 2};
  Tensor x = RandomTensor(xs, 1);
  Tensor scale = RandomTensor({4}, 2), bias = RandomTensor({4}, 3), mean = RandomTensor({4}, 4);
  Tensor var = RandomTensor({4}, 5, 0.1f, 2.0f);
  const float eps = 1e-3f;
  Tensor want(DataType::kFloat32, xs);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = (i / 10) % 4;
    want.data<float>()[i] =
        static_cast<float>((x.data<float>()[i] - mean.data<float>()[c]) /
                               std::sqrt(var.data<float>()[c] + eps) * scale.data<float>()[c] +
                           bias.data<float>()[c]);
  }
  for (int64_t opset : {7, 9, 14, 15}) {
    SCOPED_TRACE(opset);
    auto out = OpTest("BatchNormalization", opset)
                   .Input("x", x)
                   .Input("scale", scale)
                   .Input("b", bias)
                   .Input("mean", mean)
                   .Input("var", var)
                   .Attr("epsilon", eps)
                   .Run(2);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(want, (*out)[0], 1e-5, 1e-5));
  }
}

TEST(BatchNormalization, TrainingModeUsesBatchStatistics) {
  // One channel, values 0, 2, 4, 6: batch mean 3, population variance 5.
  Tensor x = Tensor::FromVector<float>({0, 2, 4, 6}, {2, 1, 2});
  auto out = OpTest("BatchNormalization", 15)
                 .Input("x", x)
                 .ConstInput("scale", Tensor::FromVector<float>({1}, {1}))
                 .ConstInput("b", Tensor::FromVector<float>({0}, {1}))
                 .ConstInput("mean", Tensor::FromVector<float>({1}, {1}))
                 .ConstInput("var", Tensor::FromVector<float>({1}, {1}))
                 .Attr("epsilon", 0.0f)
                 .Attr("momentum", 0.5f)
                 .Attr("training_mode", int64_t{1})
                 .Outputs(3)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float r5 = std::sqrt(5.0f);
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({-3 / r5, -1 / r5, 1 / r5, 3 / r5}, {2, 1, 2}),
                          (*out)[0]));
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({2}, {1}), (*out)[1]));  // 1*.5 + 3*.5
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({3}, {1}), (*out)[2]));  // 1*.5 + 5*.5
}

TEST(BatchNormalization, RejectsWrongParameterSize) {
  auto out = OpTest("BatchNormalization")
                 .Input("x", RandomTensor({1, 3, 2, 2}, 1))
                 .ConstInput("scale", RandomTensor({2}, 2))
                 .ConstInput("b", RandomTensor({2}, 3))
                 .ConstInput("mean", RandomTensor({2}, 4))
                 .ConstInput("var", RandomTensor({2}, 5))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("3 channels"), std::string::npos) << out.status().message();
}

}  // namespace
}  // namespace supernova::testing
