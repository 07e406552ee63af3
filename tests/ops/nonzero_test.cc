#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(NonZero, CoordinatesInRowMajorOrder) {
  auto out =
      OpTest("NonZero").Input("x", Tensor::FromVector<float>({0, 3, -0.0f, 0, 1, 2}, {2, 3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{0, 1, 1, 1, 1, 2}));
}

TEST(NonZero, BoolInput) {
  auto out = OpTest("NonZero").Input("x", Tensor::FromVector<bool>({true, false, true}, {3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{0, 2}));
}

TEST(NonZero, StringLikeUnsupportedDtypeIsReported) {
  auto out = OpTest("NonZero").Input("x", Tensor(DataType::kBFloat16, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

}  // namespace
}  // namespace supernova::testing
