#include <gmock/gmock.h>

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

TEST(Dropout, TrainingWithRatioIsUnsupported) {
  auto out = OpTest("Dropout", 13)
                 .Input("x", Tensor::FromVector<float>({4, 5}, {2}))
                 .Input("ratio", Tensor::Scalar<float>(0.5f))
                 .Input("training", Tensor::Scalar<bool>(true))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(out.status().message().find("training_mode"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
