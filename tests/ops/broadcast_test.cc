#include "ops/broadcast.h"

#include <gtest/gtest.h>

#include <vector>

namespace supernova::ops {
namespace {

TEST(Broadcast, ShapesFollowNumpyRules) {
  auto s = BroadcastShapes({{2, 3, 4, 5}, {5}, {1, 3, 1, 1}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, (Shape{2, 3, 4, 5}));
  auto scalar = BroadcastShapes({{}, {3}});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(*scalar, (Shape{3}));
  auto zero = BroadcastShapes({{0, 1}, {1, 4}});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, (Shape{0, 4}));
}

TEST(Broadcast, IncompatibleShapesNameBoth) {
  auto s = BroadcastShapes({{2, 3}, {4}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("[2,3]"), std::string::npos);
  EXPECT_NE(s.status().message().find("[4]"), std::string::npos);
}

TEST(Broadcast, BroadcastsToIsUnidirectional) {
  EXPECT_TRUE(BroadcastsTo({3, 1}, {2, 3, 4}));
  EXPECT_FALSE(BroadcastsTo({2, 3, 4}, {3, 1}));
  EXPECT_FALSE(BroadcastsTo({5}, {2, 4}));
}

TEST(Broadcast, SameShapeCollapsesToOneRow) {
  BroadcastPlan p = MakeBroadcastPlan({2, 3, 4}, {{2, 3, 4}, {2, 3, 4}});
  EXPECT_EQ(p.rows, 1);
  EXPECT_EQ(p.inner, 24);
  EXPECT_EQ(p.inner_stride(0), 1);
  EXPECT_EQ(p.inner_stride(1), 1);
}

TEST(Broadcast, PerChannelGivesRowsOfHW) {
  BroadcastPlan p = MakeBroadcastPlan({2, 3, 4, 5}, {{2, 3, 4, 5}, {1, 3, 1, 1}});
  EXPECT_EQ(p.rows, 6);
  EXPECT_EQ(p.inner, 20);
  EXPECT_EQ(p.inner_stride(1), 0);
  // Row r = (n, c) reads channel c of the vector and block r of the tensor.
  for (int64_t r = 0; r < 6; ++r) {
    EXPECT_EQ(p.RowOffset(0, r), r * 20);
    EXPECT_EQ(p.RowOffset(1, r), r % 3);
  }
}

TEST(Broadcast, OuterProductLoopMatchesFormula) {
  // a: [3,1], b: [1,4] -> out[i][j] = a[i] * 10 + b[j]
  std::vector<int> a = {1, 2, 3}, b = {5, 6, 7, 8}, out(12, -1);
  BroadcastPlan p = MakeBroadcastPlan({3, 4}, {{3, 1}, {1, 4}});
  BinaryBroadcastLoop(p, a.data(), b.data(), out.data(), 1,
                      [](int x, int y) { return x * 10 + y; });
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(out[i * 4 + j], a[i] * 10 + b[j]);
}

TEST(Broadcast, ParallelRowsCoverEveryElementOnce) {
  // One long row (same shape) and many short rows both have to be split exactly.
  for (Shape shape : {Shape{1, 100003}, Shape{40000, 3}}) {
    BroadcastPlan p = MakeBroadcastPlan(shape, {shape});
    std::vector<int> hits(static_cast<size_t>(p.numel), 0);
    ForEachRow(p, 4, [&](int64_t row, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(row * p.inner + i)]++;
    });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

}  // namespace
}  // namespace supernova::ops
