#include <cmath>

#include "test_util.h"

namespace supernova::testing {
namespace {

// x[a][b][c][d] = a * 1000 + b * 100 + c * 10 + d over shape [2, 3, 4, 5].
Tensor Box() {
  std::vector<float> v;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c)
        for (int d = 0; d < 5; ++d)
          v.push_back(static_cast<float>(a * 1000 + b * 100 + c * 10 + d));
  return Tensor::FromVector<float>(v, {2, 3, 4, 5});
}

TEST(ReduceMean, MiddleAxesKeepDims) {
  auto out =
      OpTest("ReduceMean", 13).Attr("axes", std::vector<int64_t>{1, 2}).Input("x", Box()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 1, 1, 5}));
  // mean over b of 100b is 100, over c of 10c is 15
  std::vector<double> expect;
  for (int a = 0; a < 2; ++a)
    for (int d = 0; d < 5; ++d) expect.push_back(a * 1000 + 100 + 15 + d);
  EXPECT_TRUE(TensorsNear(
      Tensor::FromVector<float>(std::vector<float>(expect.begin(), expect.end()), {2, 1, 1, 5}),
      (*out)[0]));
}

TEST(ReduceMax, AlternatingAxesGoThroughTransposeNoKeepDims) {
  auto out = OpTest("ReduceMax", 13)
                 .Attr("axes", std::vector<int64_t>{0, -2})
                 .Attr("keepdims", int64_t{0})
                 .Input("x", Box())
                 .Run(3);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 5}));
  std::vector<double> expect;
  for (int b = 0; b < 3; ++b)
    for (int d = 0; d < 5; ++d) expect.push_back(1000 + b * 100 + 30 + d);
  EXPECT_EQ(Values((*out)[0]), expect);
}

TEST(ReduceSum, AxesInputFromOpset13AndNoop) {
  auto out = OpTest("ReduceSum", 13)
                 .Input("x", Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .ConstInput("axes", Tensor::FromVector<int64_t>({-1}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{6, 15}));
  auto all = OpTest("ReduceSum", 13)
                 .Attr("keepdims", int64_t{0})
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2}))
                 .Run();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)[0].shape(), Shape{});
  EXPECT_EQ((*all)[0].GetAsDouble(0), 10.0);
  auto noop = OpTest("ReduceSum", 13)
                  .Attr("noop_with_empty_axes", int64_t{1})
                  .Input("x", Tensor::FromVector<float>({1, 2}, {2}))
                  .Run();
  ASSERT_TRUE(noop.ok()) << noop.status().ToString();
  EXPECT_EQ(Values((*noop)[0]), (std::vector<double>{1, 2}));
}

TEST(ReduceLogSumExp, StableForLargeValues) {
  auto out = OpTest("ReduceLogSumExp", 13)
                 .Attr("axes", std::vector<int64_t>{1})
                 .Input("x", Tensor::FromVector<float>({1000, 1000, -5, 0}, {2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double second = std::log(std::exp(-5.0) + 1.0);
  EXPECT_TRUE(TensorsNear(
      Tensor::FromVector<float>({1000 + std::log(2.0f), static_cast<float>(second)}, {2, 1}),
      (*out)[0]));
}

TEST(ReduceL2, AndFamilyOnSmallRow) {
  Tensor x = Tensor::FromVector<float>({3, -4}, {1, 2});
  auto l2 = OpTest("ReduceL2", 13).Input("x", x).Run();
  auto l1 = OpTest("ReduceL1", 13).Input("x", x).Run();
  auto ss = OpTest("ReduceSumSquare", 13).Input("x", x).Run();
  auto pr = OpTest("ReduceProd", 13).Input("x", x).Run();
  auto mn = OpTest("ReduceMin", 13).Input("x", x).Run();
  auto ls = OpTest("ReduceLogSum", 13).Input("x", Tensor::FromVector<float>({1, 2}, {2})).Run();
  ASSERT_TRUE(l2.ok() && l1.ok() && ss.ok() && pr.ok() && mn.ok() && ls.ok());
  EXPECT_NEAR((*l2)[0].GetAsDouble(0), 5.0, 1e-6);
  EXPECT_EQ((*l1)[0].GetAsDouble(0), 7.0);
  EXPECT_EQ((*ss)[0].GetAsDouble(0), 25.0);
  EXPECT_EQ((*pr)[0].GetAsDouble(0), -12.0);
  EXPECT_EQ((*mn)[0].GetAsDouble(0), -4.0);
  EXPECT_NEAR((*ls)[0].GetAsDouble(0), std::log(3.0), 1e-6);
}

TEST(ReduceMean, BadAxisIsAnError) {
  auto out = OpTest("ReduceMean", 13).Attr("axes", std::vector<int64_t>{4}).Input("x", Box()).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("axis 4 out of range"), std::string::npos);
}

TEST(ArgMax, SelectLastIndexAndKeepDims) {
  Tensor x = Tensor::FromVector<float>({1, 5, 5, 2, 2, 0}, {2, 3});
  auto first = OpTest("ArgMax", 13).Attr("axis", int64_t{1}).Input("x", x).Run();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*first)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values((*first)[0]), (std::vector<double>{1, 0}));
  auto last = OpTest("ArgMax", 13)
                  .Attr("axis", int64_t{1})
                  .Attr("keepdims", int64_t{0})
                  .Attr("select_last_index", int64_t{1})
                  .Input("x", x)
                  .Run();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ((*last)[0].shape(), (Shape{2}));
  EXPECT_EQ(Values((*last)[0]), (std::vector<double>{2, 1}));
}

TEST(ArgMin, AxisZeroAndEmptyAxisError) {
  auto out =
      OpTest("ArgMin", 13).Input("x", Tensor::FromVector<int32_t>({3, 1, 2, 4}, {2, 2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 0}));
  auto empty = OpTest("ArgMin", 13).Input("x", Tensor(DataType::kFloat32, {0, 2})).Run();
  EXPECT_FALSE(empty.ok());
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

// Large enough for the threaded paths, with an inner size that is not a multiple of the chunk.
TEST(ReduceSum, LargeThreadedLayoutsMatchClosedForm) {
  const int64_t A = 7, B = 33, C = 301;
  std::vector<float> v(static_cast<size_t>(A * B * C));
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        v[(a * B + b) * C + c] = static_cast<float>(a + 2 * b + 3 * (c % 5));
  Tensor x = Tensor::FromVector<float>(v, {A, B, C});
  // Middle axis: sum over b of (a + 2b + 3(c%5)) = B*a + B*(B-1) + 3B*(c%5).
  auto mid = OpTest("ReduceSum", 13)
                 .Input("x", x)
                 .ConstInput("axes", Tensor::FromVector<int64_t>({1}, {1}))
                 .Run(4);
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  for (int64_t a = 0; a < A; ++a)
    for (int64_t c = 0; c < C; ++c)
      ASSERT_EQ((*mid)[0].GetAsDouble(a * C + c),
                static_cast<double>(B * a + B * (B - 1) + 3 * B * (c % 5)));
  // Trailing axis through ReduceMean: mean over c of 3(c%5) is 3 * (sum of c%5) / C.
  auto last = OpTest("ReduceMean", 13).Attr("axes", std::vector<int64_t>{-1}).Input("x", x).Run(4);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  double mod_sum = 0;
  for (int64_t c = 0; c < C; ++c) mod_sum += c % 5;
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b)
      ASSERT_NEAR((*last)[0].GetAsDouble(a * B + b), a + 2 * b + 3 * mod_sum / C, 1e-4);
}

// Opset 20: ReduceMax is any and ReduceMin is all over booleans.
TEST(ReduceMax, BooleansFromOpset20) {
  const Tensor x = Tensor::FromVector<bool>({true, false, false, false}, {2, 2});
  auto out = OpTest("ReduceMax", 20)
                 .Input("x", x)
                 .ConstInput("axes", Tensor::FromVector<int64_t>({1}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kBool);
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 0}));
  out = OpTest("ReduceMin", 20).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{0}));
}

}  // namespace
}  // namespace supernova::testing
