#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Rows() { return Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}); }

TEST(Split, EqualPartsWhenNoSplitGiven) {
  auto out = OpTest("Split", 13).Attr("axis", int64_t{1}).Input("x", Rows()).Outputs(2).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 2, 5, 6}));
  EXPECT_EQ(Values((*out)[1]), (std::vector<double>{3, 4, 7, 8}));
}

TEST(Split, SplitAttributeBeforeOpset13) {
  auto out = OpTest("Split", 11)
                 .Attr("axis", int64_t{1})
                 .Attr("split", std::vector<int64_t>{1, 3})
                 .Input("x", Rows())
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 5}));
  EXPECT_EQ(Values((*out)[1]), (std::vector<double>{2, 3, 4, 6, 7, 8}));
}

TEST(Split, SplitInputFromOpset13AllowsZeroParts) {
  auto out = OpTest("Split", 13)
                 .Input("x", Rows())
                 .ConstInput("split", Tensor::FromVector<int64_t>({0, 2}, {2}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{0, 4}));
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 4}));
}

TEST(Split, UnevenOrWrongSumIsAnError) {
  auto uneven = OpTest("Split", 13).Attr("axis", int64_t{1}).Input("x", Rows()).Outputs(3).Run();
  ASSERT_FALSE(uneven.ok());
  EXPECT_NE(uneven.status().message().find("evenly"), std::string::npos);
  auto sum = OpTest("Split", 13)
                 .Input("x", Rows())
                 .ConstInput("split", Tensor::FromVector<int64_t>({1, 2}, {2}))
                 .Outputs(2)
                 .Run();
  EXPECT_FALSE(sum.ok());
}

}  // namespace
}  // namespace supernova::testing
