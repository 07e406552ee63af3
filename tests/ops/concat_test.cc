#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Concat, MiddleAxisInterleavesRows) {
  auto out = OpTest("Concat")
                 .Attr("axis", int64_t{-1})
                 .Input("a", Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2}))
                 .Input("b", Tensor::FromVector<int32_t>({5, 6}, {2, 1}))
                 .Input("c", Tensor(DataType::kInt32, {2, 0}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 2, 5, 3, 4, 6}));
}

TEST(Concat, LargeParallelMatchesIndexFormula) {
  std::vector<float> a(64 * 300), b(64 * 500);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i);
  auto out = OpTest("Concat")
                 .Attr("axis", int64_t{1})
                 .Input("a", Tensor::FromVector<float>(a, {64, 300}))
                 .Input("b", Tensor::FromVector<float>(b, {64, 500}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float* y = (*out)[0].data<float>();
  for (int r = 0; r < 64; ++r)
    for (int c = 0; c < 800; ++c)
      ASSERT_EQ(y[r * 800 + c], c < 300 ? a[r * 300 + c] : b[r * 500 + c - 300]);
}

TEST(Concat, MismatchedShapesAreAnError) {
  auto out = OpTest("Concat")
                 .Attr("axis", int64_t{0})
                 .Input("a", Tensor::FromVector<float>({1, 2}, {1, 2}))
                 .Input("b", Tensor::FromVector<float>({1, 2, 3}, {1, 3}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("differ"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

TEST(Concat, BatchOneChannelConcatSplitsBigBlocksAcrossThreads) {
  std::vector<float> a(300 * 500), b(200 * 500);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i) - 1;
  auto out = OpTest("Concat")
                 .Attr("axis", int64_t{1})
                 .Input("a", Tensor::FromVector<float>(a, {1, 300, 500}))
                 .Input("b", Tensor::FromVector<float>(b, {1, 200, 500}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float* y = (*out)[0].data<float>();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(y[i], a[i]);
  for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(y[a.size() + i], b[i]);
  // Split undoes it, again through the threaded single-block path.
  auto parts = OpTest("Split", 13)
                   .Attr("axis", int64_t{1})
                   .Input("y", (*out)[0])
                   .ConstInput("split", Tensor::FromVector<int64_t>({300, 200}, {2}))
                   .Outputs(2)
                   .Run(4);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>(a, {1, 300, 500}), (*parts)[0], 0, 0));
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>(b, {1, 200, 500}), (*parts)[1], 0, 0));
}

}  // namespace
}  // namespace supernova::testing
