// The agreement measures of the compress report, on outputs whose answer is known.
#include "compress/agreement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::Agreement;
using compress::Task;

TensorInfo Info(const std::string& name, std::vector<int64_t> dims) {
  TensorInfo t;
  t.name = name;
  t.dtype = DataType::kFloat32;
  t.rank_known = true;
  t.dims = std::move(dims);
  return t;
}

// Two rows of a 1000-class output with the best class at `first` and `second`.
Tensor Scores(int64_t first, int64_t second) {
  std::vector<float> v(2000, 0.f);
  v[static_cast<size_t>(first)] = 1.f;
  v[static_cast<size_t>(1000 + second)] = 1.f;
  return Floats(v, {2, 1000});
}

TEST(Agreement, ClassifierTop1) {
  Agreement a(Task::kAuto, {Info("x", {2, 3, 8, 8})}, {Info("y", {2, 1000})});
  ASSERT_TRUE(a.Add({Scores(5, 7)}, {Scores(5, 9)}).ok());
  const auto s = a.Summary();
  EXPECT_EQ(s.task, Task::kClassify);
  EXPECT_DOUBLE_EQ(s.top1, 0.5);
  EXPECT_EQ(s.measure, "top-1 agreement");
  EXPECT_FLOAT_EQ(static_cast<float>(s.max_abs), 1.f);
}

TEST(Agreement, EmbeddingCosine) {
  Agreement a(Task::kAuto, {Info("x", {1, 3, 8, 8})}, {Info("e", {1, 3})});
  ASSERT_TRUE(a.Add({Floats({2, 0, 0}, {1, 3})}, {Floats({2, 2, 0}, {1, 3})}).ok());
  ASSERT_TRUE(a.Add({Floats({0, 2, 0}, {1, 3})}, {Floats({0, 3, 0}, {1, 3})}).ok());
  const auto s = a.Summary();
  EXPECT_EQ(s.task, Task::kEmbed);
  EXPECT_NEAR(s.cosine_min, std::sqrt(0.5), 1e-9);
  EXPECT_NEAR(s.cosine_mean, (std::sqrt(0.5) + 1) / 2, 1e-9);
  EXPECT_NEAR(s.mean_abs, 3.0 / 6, 1e-9);
}

// A CenterNet pair (NHWC heatmap of 2 classes on an 8x8 grid, extents) with one peak of
// `score` at (y, x) of class `cls` and a box of `extent` input pixels each way.
std::vector<Tensor> CenterNet(int y, int x, int cls, float extent, float score = 0.9f) {
  std::vector<float> hm(8 * 8 * 2, 0.f), wh(8 * 8 * 4, 0.f);
  hm[static_cast<size_t>((y * 8 + x) * 2 + cls)] = score;
  for (int k = 0; k < 4; ++k) wh[static_cast<size_t>((y * 8 + x) * 4 + k)] = extent;
  return {Floats(hm, {1, 8, 8, 2}), Floats(wh, {1, 8, 8, 4})};
}

TEST(Agreement, DetectorBoxMatch) {
  const std::vector<TensorInfo> in = {Info("img", {1, 32, 32, 3})};
  const std::vector<TensorInfo> out = {Info("hm", {1, 8, 8, 2}), Info("wh", {1, 8, 8, 4})};
  Agreement a(Task::kAuto, in, out);
  ASSERT_TRUE(a.Add(CenterNet(3, 3, 1, 8), CenterNet(3, 3, 1, 9)).ok());  // IoU 0.79: a match
  ASSERT_TRUE(a.Add(CenterNet(3, 3, 1, 8), CenterNet(3, 3, 0, 8)).ok());  // another class
  ASSERT_TRUE(a.Add(CenterNet(3, 3, 1, 8), CenterNet(6, 6, 1, 8)).ok());  // elsewhere
  // A weak box whose score fell below the threshold.
  ASSERT_TRUE(a.Add(CenterNet(3, 3, 1, 8, 0.32f), CenterNet(3, 3, 1, 8, 0.29f)).ok());
  const auto s = a.Summary();
  EXPECT_EQ(s.task, Task::kDetect);
  EXPECT_EQ(s.reference_boxes, 4);
  EXPECT_EQ(s.candidate_boxes, 3);
  EXPECT_NEAR(s.box_match, 1.0 / 4, 1e-9);
  EXPECT_EQ(s.unmatched_boxes, 5);  // two each for the other class and elsewhere, the weak one
  EXPECT_EQ(s.unmatched_weak, 1);
}

TEST(Agreement, MismatchedOutputsAndTasksAreErrors) {
  Agreement a(Task::kAuto, {}, {});
  EXPECT_FALSE(a.Add({Floats({1, 2}, {1, 2})}, {Floats({1, 2, 3}, {1, 3})}).ok());
  Agreement d(Task::kDetect, {}, {});
  EXPECT_THAT(d.Add({Floats({1, 2}, {1, 2})}, {Floats({1, 2}, {1, 2})}).message(),
              ::testing::HasSubstr("CenterNet"));
  Agreement r(Task::kAuto, {}, {});
  ASSERT_TRUE(r.Add({Floats({1, 2, 3}, {3})}, {Floats({1, 2.5f, 3}, {3})}).ok());
  EXPECT_EQ(r.Summary().task, Task::kRaw);
  EXPECT_DOUBLE_EQ(r.Summary().value, 0.5);
  EXPECT_FALSE(compress::ParseTask("segment").ok());
}

}  // namespace
}  // namespace supernova::testing
