#include <gmock/gmock.h>

#include <algorithm>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

TEST(Variadic, ThreeInputsBroadcastToCommonShape) {
  auto a = Floats({1, 8}, {2, 1});
  auto b = Floats({5, 2, 7}, {1, 3});
  auto c = Floats({4}, {});
  auto out = OpTest("Max").Input("a", a).Input("b", b).Input("c", c).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 4, 7, 8, 8, 8));
  out = OpTest("Min").Input("a", a).Input("b", b).Input("c", c).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 1, 4, 2, 4));
  out = OpTest("Sum").Input("a", a).Input("b", b).Input("c", c).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(10, 7, 12, 17, 14, 19));
  out = OpTest("Mean").Input("a", a).Input("b", b).Input("c", c).Run();
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(
      TensorsNear(Floats({10 / 3.f, 7 / 3.f, 4, 17 / 3.f, 14 / 3.f, 19 / 3.f}, {2, 3}), (*out)[0]));
}

TEST(Variadic, SingleInputIsAliased) {
  auto x = Floats({1, 2}, {2});
  auto out = OpTest("Sum").Input("a", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 2));
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
}

TEST(Variadic, IntegerMax) {
  auto out = OpTest("Max")
                 .Input("a", Tensor::FromVector<int8_t>({-5, 3}, {2}))
                 .Input("b", Tensor::FromVector<int8_t>({-7, 9}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-5, 9));
}

TEST(Variadic, IncompatibleShapesAreAnError) {
  auto out = OpTest("Sum").Input("a", Floats({1, 2}, {2})).Input("b", Floats({1, 2, 3}, {3})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
}

TEST(Where, ThreeWayBroadcast) {
  auto cond = Tensor::FromVector<bool>({true, false}, {2, 1});
  auto x = Tensor::FromVector<int64_t>({1, 2, 3}, {3});
  auto y = Tensor::FromVector<int64_t>({-1}, {});
  auto out = OpTest("Where").Input("c", cond).Input("x", x).Input("y", y).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 2, 3, -1, -1, -1));
}

TEST(Where, ConditionMustBeBool) {
  auto out = OpTest("Where")
                 .Input("c", Floats({1}, {1}))
                 .Input("x", Floats({1}, {1}))
                 .Input("y", Floats({1}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("bool"), std::string::npos);
}

TEST(Expand, BroadcastsBothWays) {
  // [3,1] expanded with shape [2,1,4]: the 1 in the target keeps the input's 3.
  auto out = OpTest("Expand")
                 .Input("x", Floats({1, 2, 3}, {3, 1}))
                 .Input("shape", Tensor::FromVector<int64_t>({2, 1, 4}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].shape(), (Shape{2, 3, 4}));
  std::vector<double> v = Values((*out)[0]);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], static_cast<double>((i / 4) % 3 + 1));
}

TEST(Expand, SameShapeAliases) {
  auto x = Floats({1, 2, 3}, {1, 3});
  auto out =
      OpTest("Expand").Input("x", x).Input("shape", Tensor::FromVector<int64_t>({3}, {1})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 3}));
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
}

TEST(Expand, IncompatibleShapeIsAnError) {
  auto out = OpTest("Expand")
                 .Input("x", Floats({1, 2, 3}, {3}))
                 .Input("shape", Tensor::FromVector<int64_t>({2}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
}

TEST(Variadic, LargeInPlaceFoldMultiThreaded) {
  // [4,16,32,32] with a per-channel [16,1,1] and a per-column [32] operand.
  const int64_t n = 4 * 16 * 32 * 32;
  std::vector<float> a(static_cast<size_t>(n)), b(16), c(32);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 101);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i * 6);
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<float>(100 - i * 3);
  auto out = OpTest("Max")
                 .Input("a", Floats(a, {4, 16, 32, 32}))
                 .Input("b", Floats(b, {16, 1, 1}))
                 .Input("c", Floats(c, {32}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float* y = (*out)[0].data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float e = std::max({a[static_cast<size_t>(i)], b[static_cast<size_t>((i / 1024) % 16)],
                              c[static_cast<size_t>(i % 32)]});
    ASSERT_EQ(y[i], e) << i;
  }
}

TEST(Where, LargeMultiThreaded) {
  const int64_t n = 64 * 1024;
  std::vector<bool> cond(static_cast<size_t>(n));
  std::vector<float> x(static_cast<size_t>(n));
  for (size_t i = 0; i < cond.size(); ++i) {
    cond[i] = (i % 3) == 0;
    x[i] = static_cast<float>(i);
  }
  auto out = OpTest("Where")
                 .Input("c", Tensor::FromVector<bool>(cond, {64, 1024}))
                 .Input("x", Floats(x, {64, 1024}))
                 .Input("y", Floats({-1}, {1}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float* y = (*out)[0].data<float>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], i % 3 == 0 ? static_cast<float>(i) : -1.0f);
}

}  // namespace
}  // namespace supernova::testing
