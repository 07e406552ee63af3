#include <gmock/gmock.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

// The identity transform gives the normalised pixel centres: for W = 2, x = -0.5 and 0.5; with
// align_corners the corner pixels themselves, -1 and 1.
TEST(AffineGrid, IdentityGivesNormalisedCoordinates) {
  const Tensor theta = Tensor::FromVector<float>({1, 0, 0, 0, 1, 0}, {1, 2, 3});
  auto out = OpTest("AffineGrid", 20)
                 .Input("theta", theta)
                 .ConstInput("size", Tensor::FromVector<int64_t>({1, 1, 1, 2}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-0.5, 0, 0.5, 0));
  out = OpTest("AffineGrid", 20)
            .Attr("align_corners", int64_t{1})
            .Input("theta", theta)
            .ConstInput("size", Tensor::FromVector<int64_t>({1, 1, 1, 2}, {4}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-1, 0, 1, 0));
}

// A translation by (0.25, -1) and a scale of 2 on x.
TEST(AffineGrid, AppliesTheMatrix) {
  auto out = OpTest("AffineGrid", 20)
                 .Input("theta", Tensor::FromVector<float>({2, 0, 0.25f, 0, 1, -1}, {1, 2, 3}))
                 .ConstInput("size", Tensor::FromVector<int64_t>({1, 3, 1, 2}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-0.75, -1, 1.25, -1));
}

TEST(AffineGrid, ThetaMustMatchTheRank) {
  auto out = OpTest("AffineGrid", 20)
                 .Input("theta", Tensor::FromVector<float>({1, 0, 0, 0, 1, 0}, {1, 2, 3}))
                 .ConstInput("size", Tensor::FromVector<int64_t>({1, 1, 1, 2, 2}, {5}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("theta"), std::string::npos) << out.status().ToString();
}

}  // namespace
}  // namespace supernova::testing
