#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(OneHot, NegativeAndOutOfRangeIndicesOnAxis0) {
  auto out = OpTest("OneHot", 11)
                 .Attr("axis", int64_t{0})
                 .Input("i", Tensor::FromVector<int64_t>({1, -1, 7}, {3}))
                 .ConstInput("depth", Tensor::Scalar<float>(3))
                 .ConstInput("values", Tensor::FromVector<int32_t>({-2, 9}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 3}));
  // out[d][i] = on when index i maps to class d
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{-2, -2, -2, 9, -2, -2, -2, 9, -2}));
}

TEST(OneHot, BadValuesIsAnError) {
  auto out = OpTest("OneHot", 11)
                 .Input("i", Tensor::FromVector<int64_t>({1}, {1}))
                 .ConstInput("depth", Tensor::Scalar<int64_t>(3))
                 .ConstInput("values", Tensor::FromVector<float>({0, 1, 2}, {3}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("off_value, on_value"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
