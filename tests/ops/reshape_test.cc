#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(v, std::move(shape));
}

TEST(Reshape, ZeroCopiesDimAndMinusOneIsInferredWithoutCopy) {
  Tensor x = Iota({2, 3, 4});
  auto out = OpTest("Reshape", 14)
                 .Input("x", x)
                 .ConstInput("s", Tensor::FromVector<int64_t>({0, -1}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 12}));
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
  EXPECT_EQ((*out)[0].GetAsDouble(13), 13.0);
}

TEST(Reshape, AllowZeroKeepsZeroDims) {
  auto out = OpTest("Reshape", 14)
                 .Attr("allowzero", int64_t{1})
                 .Input("x", Tensor(DataType::kFloat32, {0, 3}))
                 .ConstInput("s", Tensor::FromVector<int64_t>({3, 0}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 0}));
}

TEST(Reshape, MismatchedCountIsAnError) {
  auto out = OpTest("Reshape", 13)
                 .Input("x", Iota({2, 3}))
                 .ConstInput("s", Tensor::FromVector<int64_t>({4, -1}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("Reshape"), std::string::npos);
}

TEST(Flatten, NegativeAxis) {
  auto out = OpTest("Flatten").Attr("axis", int64_t{-1}).Input("x", Iota({2, 3, 4})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{6, 4}));
  auto bad = OpTest("Flatten").Attr("axis", int64_t{4}).Input("x", Iota({2, 3, 4})).Run();
  EXPECT_FALSE(bad.ok());
}

TEST(Squeeze, AxesAttributeBeforeOpset13AndInputFrom13) {
  auto a = OpTest("Squeeze", 11)
               .Attr("axes", std::vector<int64_t>{-1})
               .Input("x", Iota({1, 3, 1}))
               .Run();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)[0].shape(), (Shape{1, 3}));
  auto b = OpTest("Squeeze", 13)
               .Input("x", Iota({1, 3, 1}))
               .ConstInput("axes", Tensor::FromVector<int64_t>({0}, {1}))
               .Run();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)[0].shape(), (Shape{3, 1}));
  auto all = OpTest("Squeeze", 13).Input("x", Iota({1, 3, 1})).Run();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)[0].shape(), (Shape{3}));
}

TEST(Squeeze, NonUnitAxisIsAnError) {
  auto out =
      OpTest("Squeeze", 11).Attr("axes", std::vector<int64_t>{1}).Input("x", Iota({1, 3})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("size 3"), std::string::npos);
}

TEST(Unsqueeze, UnsortedAndNegativeAxes) {
  auto out = OpTest("Unsqueeze", 13)
                 .Input("x", Iota({3, 4}))
                 .ConstInput("axes", Tensor::FromVector<int64_t>({-1, 0}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 3, 4, 1}));
  auto dup =
      OpTest("Unsqueeze", 11).Attr("axes", std::vector<int64_t>{1, 1}).Input("x", Iota({3})).Run();
  EXPECT_FALSE(dup.ok());
}

}  // namespace
}  // namespace supernova::testing
