#include <gmock/gmock.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

Tensor K(int64_t k) { return Tensor::FromVector<int64_t>({k}, {1}); }

TEST(TopK, LargestBreaksTiesByLowerIndex) {
  auto out = OpTest("TopK", 11)
                 .Input("x", Tensor::FromVector<float>({3, 1, 3, 2, 1}, {5}))
                 .ConstInput("k", K(3))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 3, 2));
  EXPECT_EQ((*out)[1].dtype(), DataType::kInt64);
  EXPECT_THAT(Values((*out)[1]), ElementsAre(0, 2, 3));
}

TEST(TopK, SmallestBreaksTiesByLowerIndex) {
  auto out = OpTest("TopK", 11)
                 .Attr("largest", int64_t{0})
                 .Input("x", Tensor::FromVector<int32_t>({3, 1, 3, 2, 1}, {5}))
                 .ConstInput("k", K(4))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 2, 3));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(1, 4, 3, 0));
}

TEST(TopK, AlongFirstAxisOfMatrix) {
  // Columns are independent: [[1, 9], [5, 2], [3, 7]] -> top 2 per column.
  auto out = OpTest("TopK", 11)
                 .Attr("axis", int64_t{0})
                 .Input("x", Tensor::FromVector<double>({1, 9, 5, 2, 3, 7}, {3, 2}))
                 .ConstInput("k", K(2))
                 .Outputs(2)
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 9, 3, 7));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(1, 0, 2, 2));
}

TEST(TopK, Opset1KAttributeAndNaNRanksHighest) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = OpTest("TopK", 1)
                 .Attr("k", int64_t{2})
                 .Input("x", Tensor::FromVector<float>({0.5f, nan, 2, -1}, {1, 4}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(std::isnan((*out)[0].data<float>()[0]));
  EXPECT_EQ((*out)[0].data<float>()[1], 2);
  EXPECT_THAT(Values((*out)[1]), ElementsAre(1, 2));
}

TEST(TopK, ManySlicesMultithreaded) {
  // 64 rows of 2000 values; row r holds (i * 7919 + r) % 2000, so its top 3 are 1999..1997.
  const int rows = 64, len = 2000;
  std::vector<float> x(rows * len);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < len; ++i) x[r * len + i] = static_cast<float>((i * 7919 + r) % len);
  auto out = OpTest("TopK", 11)
                 .Input("x", Tensor::FromVector<float>(x, {rows, len}))
                 .ConstInput("k", K(3))
                 .Outputs(2)
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < 3; ++j) {
      const float v = (*out)[0].data<float>()[r * 3 + j];
      const int64_t i = (*out)[1].data<int64_t>()[r * 3 + j];
      EXPECT_EQ(v, static_cast<float>(len - 1 - j));
      EXPECT_EQ(x[r * len + i], v);
    }
}

TEST(TopK, KZeroGivesEmptyOutputs) {
  auto out = OpTest("TopK", 11)
                 .Attr("sorted", int64_t{0})
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .ConstInput("k", K(0))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 0}));
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 0}));
}

TEST(TopK, BadInputs) {
  const Tensor x = Tensor::FromVector<float>({1, 2, 3}, {3});
  auto too_big = OpTest("TopK", 11).Input("x", x).ConstInput("k", K(4)).Outputs(2).Run();
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("k (4) is larger than axis 0"), std::string::npos)
      << too_big.status().ToString();

  auto negative = OpTest("TopK", 11).Input("x", x).ConstInput("k", K(-1)).Outputs(2).Run();
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("non-negative"), std::string::npos);

  auto axis = OpTest("TopK", 11)
                  .Attr("axis", int64_t{1})
                  .Input("x", x)
                  .ConstInput("k", K(1))
                  .Outputs(2)
                  .Run();
  ASSERT_FALSE(axis.ok());
  EXPECT_NE(axis.status().message().find("axis 1 out of range"), std::string::npos);

  auto k_type = OpTest("TopK", 11)
                    .Input("x", x)
                    .ConstInput("k", Tensor::FromVector<float>({1}, {1}))
                    .Outputs(2)
                    .Run();
  ASSERT_FALSE(k_type.ok());
  EXPECT_NE(k_type.status().message().find("single int64"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
