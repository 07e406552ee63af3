#include <gmock/gmock.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

// Crop 4 -> 2 keeps the middle two (start (4-2)/2 = 1); pad 1 -> 4 puts the value at
// (4-1)/2 = 1, the odd zero going to the end.
TEST(CenterCropPad, CropsAndPadsAroundTheCentre) {
  auto out = OpTest("CenterCropPad", 18)
                 .Attr("axes", std::vector<int64_t>{0, 1})
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {4, 1}))
                 .ConstInput("shape", Tensor::FromVector<int64_t>({2, 4}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 4}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 2, 0, 0, 0, 3, 0, 0));
}

TEST(CenterCropPad, WithoutAxesEveryAxisIsListed) {
  auto out = OpTest("CenterCropPad", 18)
                 .Input("x", Tensor::FromVector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .ConstInput("shape", Tensor::FromVector<int64_t>({1, 1}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Rows: crop 2 -> 1 starts at 0; columns: crop 3 -> 1 starts at 1.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2));
}

TEST(CenterCropPad, ShapeLengthMustMatchAxes) {
  auto out = OpTest("CenterCropPad", 18)
                 .Attr("axes", std::vector<int64_t>{0})
                 .Input("x", Tensor::FromVector<float>({1, 2}, {2}))
                 .ConstInput("shape", Tensor::FromVector<int64_t>({1, 1}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("axes"), std::string::npos) << out.status().ToString();
}

}  // namespace
}  // namespace supernova::testing
