#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Tile, RepeatsEveryDim) {
  auto out = OpTest("Tile")
                 .Input("x", Tensor::FromVector<int64_t>({1, 2, 3, 4}, {2, 2}))
                 .ConstInput("r", Tensor::FromVector<int64_t>({2, 3}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{4, 6}));
  // out[i][j] = x[i % 2][j % 2]
  std::vector<double> expect;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j) expect.push_back((i % 2) * 2 + (j % 2) + 1);
  EXPECT_EQ(Values((*out)[0]), expect);
}

TEST(Tile, WrongRepeatsLengthIsAnError) {
  auto out = OpTest("Tile")
                 .Input("x", Tensor::FromVector<float>({1, 2}, {2}))
                 .ConstInput("r", Tensor::FromVector<int64_t>({2, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("repeats"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

TEST(Tile, OverflowingRepeatsAreAnError) {
  auto out = OpTest("Tile")
                 .Input("x", Tensor::FromVector<float>({1, 2}, {2}))
                 .ConstInput("r", Tensor::FromVector<int64_t>({INT64_MAX}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("too large"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
