#include <gmock/gmock.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

// A 1x3 image from 1x2 blocks with stride 1: two blocks, [a b] at 0 and [c d] at 1, so the
// middle pixel is b + c.
TEST(Col2Im, OverlappingBlocksAddUp) {
  // Input [N=1, C*block=2, L=2]: row k holds tap k of every block.
  auto out = OpTest("Col2Im", 18)
                 .Input("x", Tensor::FromVector<float>({1, 10, 2, 20}, {1, 2, 2}))
                 .ConstInput("image", Tensor::FromVector<int64_t>({1, 3}, {2}))
                 .ConstInput("block", Tensor::FromVector<int64_t>({1, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 1, 3}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 2 + 10, 20));
}

TEST(Col2Im, BlockCountMustMatchTheGeometry) {
  auto out = OpTest("Col2Im", 18)
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {1, 2, 3}))
                 .ConstInput("image", Tensor::FromVector<int64_t>({1, 3}, {2}))
                 .ConstInput("block", Tensor::FromVector<int64_t>({1, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("blocks"), std::string::npos) << out.status().ToString();
}

}  // namespace
}  // namespace supernova::testing
