#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Rows2x3() { return Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3}); }

TEST(CumSum, AxisExclusiveReverse) {
  auto a1 = OpTest("CumSum", 14)
                .Input("x", Rows2x3())
                .ConstInput("axis", Tensor::Scalar<int64_t>(1))
                .Run();
  ASSERT_TRUE(a1.ok()) << a1.status().ToString();
  EXPECT_EQ(Values((*a1)[0]), (std::vector<double>{1, 3, 6, 4, 9, 15}));
  auto a0 = OpTest("CumSum", 14)
                .Input("x", Rows2x3())
                .ConstInput("axis", Tensor::Scalar<int32_t>(-2))
                .Run();
  ASSERT_TRUE(a0.ok()) << a0.status().ToString();
  EXPECT_EQ(Values((*a0)[0]), (std::vector<double>{1, 2, 3, 5, 7, 9}));
  auto er = OpTest("CumSum", 14)
                .Attr("exclusive", int64_t{1})
                .Attr("reverse", int64_t{1})
                .Input("x", Rows2x3())
                .ConstInput("axis", Tensor::Scalar<int64_t>(1))
                .Run();
  ASSERT_TRUE(er.ok()) << er.status().ToString();
  EXPECT_EQ(Values((*er)[0]), (std::vector<double>{5, 3, 0, 11, 6, 0}));
}

TEST(CumSum, BadAxisIsAnError) {
  auto out = OpTest("CumSum", 14)
                 .Input("x", Rows2x3())
                 .ConstInput("axis", Tensor::Scalar<int64_t>(2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
