#include <gmock/gmock.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

Tensor CastTo(const Tensor& x, DataType to) {
  auto out = OpTest("Cast").Attr("to", static_cast<int64_t>(to)).Input("x", x).Run();
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

TEST(Cast, FloatToIntTruncatesAndSaturates) {
  auto x = Tensor::FromVector<float>({-1.7f, 2.9f, 1e10f, std::nanf("")}, {4});
  Tensor y = CastTo(x, DataType::kInt32);
  ASSERT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_THAT(Values(y), ElementsAre(-1, 2, std::numeric_limits<int32_t>::max(), 0));
  Tensor u8 = CastTo(Tensor::FromVector<float>({-3.0f, 300.0f, 7.5f}, {3}), DataType::kUint8);
  EXPECT_THAT(Values(u8), ElementsAre(0, 255, 7));
}

TEST(Cast, BoolRoundTrip) {
  Tensor b = CastTo(Tensor::FromVector<float>({0.0f, -0.5f, 2.0f}, {3}), DataType::kBool);
  ASSERT_EQ(b.dtype(), DataType::kBool);
  EXPECT_THAT(Values(b), ElementsAre(0, 1, 1));
  Tensor i = CastTo(b, DataType::kInt64);
  EXPECT_THAT(Values(i), ElementsAre(0, 1, 1));
}

TEST(Cast, HalfTypes) {
  Tensor h = CastTo(Tensor::FromVector<double>({0.5, -2.0, 65504.0}, {3}), DataType::kFloat16);
  ASSERT_EQ(h.dtype(), DataType::kFloat16);
  EXPECT_EQ(h.data<Float16>()[0].bits, 0x3800);  // 0.5
  EXPECT_EQ(h.data<Float16>()[1].bits, 0xC000);  // -2
  EXPECT_EQ(h.data<Float16>()[2].bits, 0x7BFF);  // largest half
  Tensor f = CastTo(h, DataType::kFloat32);
  EXPECT_THAT(Values(f), ElementsAre(0.5, -2.0, 65504.0));
  Tensor bf = CastTo(Tensor::FromVector<float>({1.0f, -3.0f}, {2}), DataType::kBFloat16);
  ASSERT_EQ(bf.dtype(), DataType::kBFloat16);
  EXPECT_EQ(bf.data<BFloat16>()[0].bits, 0x3F80);
  EXPECT_EQ(bf.data<BFloat16>()[1].bits, 0xC040);
}

TEST(Cast, SameTypeAliases) {
  auto x = Tensor::FromVector<int64_t>({1, 2}, {2});
  auto out = OpTest("Cast").Attr("to", int64_t{7}).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
}

TEST(Cast, CastLikeTakesTheSecondInputsType) {
  auto out = OpTest("CastLike", 15)
                 .Input("x", Tensor::FromVector<float>({1.5f, -2.5f}, {2}))
                 .Input("like", Tensor::FromVector<int8_t>({0}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, -2));
}

// Casts to and from string: string_tensor_test.cc.
TEST(Cast, UnknownTargetsAreErrors) {
  auto x = Tensor::FromVector<float>({1}, {1});
  auto out = OpTest("Cast").Attr("to", int64_t{99}).Input("x", x).Run();
  ASSERT_FALSE(out.ok());
  out = OpTest("Cast").Attr("to", int64_t{0}).Input("x", x).Run();
  ASSERT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing
