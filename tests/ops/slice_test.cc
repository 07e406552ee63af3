#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(v, std::move(shape));
}

TEST(Slice, NegativeStepsAndClamping) {
  // x is 3x4 = [[0..3],[4..7],[8..11]]; rows from the end back, every second column.
  auto out = OpTest("Slice", 13)
                 .Input("x", Iota({3, 4}))
                 .ConstInput("starts", Int64s({100, 0}))
                 .ConstInput("ends", Int64s({INT64_MIN, 1000}))
                 .ConstInput("axes", Int64s({0, -1}))
                 .ConstInput("steps", Int64s({-1, 2}))
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
                   .ConstInput("starts", Int64s({3}))
                   .ConstInput("ends", Int64s({1}))
                   .Run();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ((*empty)[0].shape(), (Shape{0, 4}));
}

TEST(Slice, ZeroStepAndBadAxisAreErrors) {
  auto step = OpTest("Slice", 13)
                  .Input("x", Iota({4}))
                  .ConstInput("starts", Int64s({0}))
                  .ConstInput("ends", Int64s({4}))
                  .ConstInput("axes", Int64s({0}))
                  .ConstInput("steps", Int64s({0}))
                  .Run();
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.status().message().find("steps"), std::string::npos);
  auto axis = OpTest("Slice", 13)
                  .Input("x", Iota({4}))
                  .ConstInput("starts", Int64s({0}))
                  .ConstInput("ends", Int64s({4}))
                  .ConstInput("axes", Int64s({3}))
                  .Run();
  EXPECT_FALSE(axis.ok());
}

}  // namespace
}  // namespace supernova::testing
