#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(v, std::move(shape));
}

Tensor I64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(v, {n});
}

TEST(Slice, NegativeStepsAndClamping) {
  // x is 3x4 = [[0..3],[4..7],[8..11]]; rows from the end back, every second column.
  auto out = OpTest("Slice", 13)
                 .Input("x", Iota({3, 4}))
                 .ConstInput("starts", I64({100, 0}))
                 .ConstInput("ends", I64({INT64_MIN, 1000}))
                 .ConstInput("axes", I64({0, -1}))
                 .ConstInput("steps", I64({-1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{8, 10, 4, 6, 0, 2}));
}

TEST(Slice, Opset1AttributesAndEmptyResult) {
  auto out = OpTest("Slice", 1)
                 .Attr("starts", std::vector<int64_t>{1})
                 .Attr("ends", std::vector<int64_t>{-1})
                 .Attr("axes", std::vector<int64_t>{1})
                 .Input("x", Iota({2, 4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 2, 5, 6}));
  auto empty = OpTest("Slice", 13)
                   .Input("x", Iota({2, 4}))
                   .ConstInput("starts", I64({3}))
                   .ConstInput("ends", I64({1}))
                   .Run();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ((*empty)[0].shape(), (Shape{0, 4}));
}

TEST(Slice, ZeroStepAndBadAxisAreErrors) {
  auto step = OpTest("Slice", 13)
                  .Input("x", Iota({4}))
                  .ConstInput("starts", I64({0}))
                  .ConstInput("ends", I64({4}))
                  .ConstInput("axes", I64({0}))
                  .ConstInput("steps", I64({0}))
                  .Run();
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.status().message().find("steps"), std::string::npos);
  auto axis = OpTest("Slice", 13)
                  .Input("x", Iota({4}))
                  .ConstInput("starts", I64({0}))
                  .ConstInput("ends", I64({4}))
                  .ConstInput("axes", I64({3}))
                  .Run();
  EXPECT_FALSE(axis.ok());
}

}  // namespace
}  // namespace supernova::testing
