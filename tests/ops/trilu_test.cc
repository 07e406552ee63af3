#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Ones(Shape shape) {
  return Tensor::FromVector<int32_t>(
      std::vector<int32_t>(static_cast<size_t>(NumElements(shape)), 1), shape);
}

TEST(Trilu, UpperAndLowerWithK) {
  auto up = OpTest("Trilu", 14)
                .Input("x", Ones({3, 3}))
                .ConstInput("k", Tensor::Scalar<int64_t>(1))
                .Run();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(Values((*up)[0]), (std::vector<double>{0, 1, 1, 0, 0, 1, 0, 0, 0}));
  auto low = OpTest("Trilu", 14)
                 .Attr("upper", int64_t{0})
                 .Input("x", Ones({2, 3, 2}))
                 .ConstInput("k", Tensor::Scalar<int64_t>(-1))
                 .Run();
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  // keep j <= i - 1 in each 3x2 matrix
  EXPECT_EQ(Values((*low)[0]), (std::vector<double>{0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1}));
  auto huge = OpTest("Trilu", 14)
                  .Input("x", Ones({2, 2}))
                  .ConstInput("k", Tensor::Scalar<int64_t>(INT64_MIN))
                  .Run();
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  EXPECT_EQ(Values((*huge)[0]), (std::vector<double>{1, 1, 1, 1}));
}

TEST(Trilu, VectorInputIsAnError) {
  auto out = OpTest("Trilu", 14).Input("x", Ones({3})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("rank >= 2"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
