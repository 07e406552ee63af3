#include <gmock/gmock.h>

#include <limits>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;

Tensor Boxes(std::vector<float> v) {
  const auto n = static_cast<int64_t>(v.size() / 4);
  return Tensor::FromVector<float>(v, {1, n, 4});
}

OpTest Nms(Tensor boxes, Tensor scores, int64_t max_out, float iou, float score = -1) {
  OpTest t("NonMaxSuppression", 11);
  t.Input("boxes", std::move(boxes))
      .Input("scores", std::move(scores))
      .ConstInput("max", Tensor::FromVector<int64_t>({max_out}, {1}))
      .ConstInput("iou", Tensor::FromVector<float>({iou}, {1}));
  if (score >= 0) t.ConstInput("score", Tensor::FromVector<float>({score}, {1}));
  return t;
}

TEST(NonMaxSuppression, SuppressesOverlapsByIoU) {
  // Box 0: [0,0]-[2,2]; box 1 shifted by 1 in x: intersection 2, union 6, IoU 1/3.
  // Box 2: far away. Box 3 equals box 0 (IoU 1).
  const Tensor boxes = Boxes({0, 0, 2, 2, 0, 1, 2, 3, 10, 10, 11, 11, 0, 0, 2, 2});
  const Tensor scores = Tensor::FromVector<float>({0.9f, 0.8f, 0.7f, 0.95f}, {1, 1, 4});
  // Threshold 0.5: only the duplicate of the best box goes.
  auto loose = Nms(boxes, scores, 10, 0.5f).Run();
  ASSERT_TRUE(loose.ok()) << loose.status().ToString();
  EXPECT_EQ((*loose)[0].shape(), (Shape{3, 3}));
  EXPECT_THAT(Values((*loose)[0]), ElementsAre(0, 0, 3, 0, 0, 1, 0, 0, 2));
  // Threshold 0.3 (< 1/3): box 1 goes too.
  auto tight = Nms(boxes, scores, 10, 0.3f).Run();
  ASSERT_TRUE(tight.ok()) << tight.status().ToString();
  EXPECT_THAT(Values((*tight)[0]), ElementsAre(0, 0, 3, 0, 0, 2));
  // IoU exactly at the threshold is kept (suppression needs IoU > threshold).
  auto exact = Nms(boxes, scores, 10, 1.0f).Run();
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ((*exact)[0].dim(0), 4);
}

TEST(NonMaxSuppression, ScoreThresholdLimitAndClasses) {
  const Tensor boxes = Boxes({0, 0, 1, 1, 0, 2, 1, 3, 0, 4, 1, 5});  // disjoint
  // Class 0 prefers box 2, class 1 prefers box 0.
  const Tensor scores = Tensor::FromVector<float>({0.1f, 0.5f, 0.9f, 0.8f, 0.3f, 0.2f}, {1, 2, 3});
  auto out = Nms(boxes, scores, 2, 0.5f, 0.25f).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 2, 0, 0, 1, 0, 1, 0, 0, 1, 1));
  auto none = Nms(boxes, scores, 0, 0.5f).Run();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ((*none)[0].shape(), (Shape{0, 3}));
}

TEST(NonMaxSuppression, CenterPointFormat) {
  // Centre (1,1) size 2 and centre (1.5,1) size 2: intersection 1.5*2 = 3, union 5, IoU 0.6.
  const Tensor boxes = Boxes({1, 1, 2, 2, 1.5f, 1, 2, 2});
  const Tensor scores = Tensor::FromVector<float>({0.6f, 0.7f}, {1, 1, 2});
  auto suppressed = Nms(boxes, scores, 5, 0.55f).Attr("center_point_box", int64_t{1}).Run();
  ASSERT_TRUE(suppressed.ok()) << suppressed.status().ToString();
  EXPECT_THAT(Values((*suppressed)[0]), ElementsAre(0, 0, 1));
  auto kept = Nms(boxes, scores, 5, 0.65f).Attr("center_point_box", int64_t{1}).Run();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_THAT(Values((*kept)[0]), ElementsAre(0, 0, 1, 0, 0, 0));
}

TEST(NonMaxSuppression, EmptyAndOmittedInputs) {
  // No boxes at all.
  auto no_boxes =
      Nms(Tensor(DataType::kFloat32, {1, 0, 4}), Tensor(DataType::kFloat32, {1, 3, 0}), 5, 0.5f)
          .Run();
  ASSERT_TRUE(no_boxes.ok()) << no_boxes.status().ToString();
  EXPECT_EQ((*no_boxes)[0].shape(), (Shape{0, 3}));
  // Without max_output_boxes_per_class nothing is selected (its default is 0).
  auto omitted = OpTest("NonMaxSuppression", 11)
                     .Input("boxes", Boxes({0, 0, 1, 1}))
                     .Input("scores", Tensor::FromVector<float>({0.5f}, {1, 1, 1}))
                     .Run();
  ASSERT_TRUE(omitted.ok()) << omitted.status().ToString();
  EXPECT_EQ((*omitted)[0].shape(), (Shape{0, 3}));
}

TEST(NonMaxSuppression, ManyBoxesManyClassesMultithreaded) {
  // 600 disjoint unit boxes; class c scores box i as ((i * 37 + c * 101) % 600) / 600, so
  // its top 4 are the boxes whose code is 599..596.
  const int n = 600, classes = 5;
  std::vector<float> boxes, scores;
  for (int i = 0; i < n; ++i) {
    const float y = static_cast<float>(2 * i);
    boxes.insert(boxes.end(), {y, 0, y + 1, 1});
  }
  for (int c = 0; c < classes; ++c)
    for (int i = 0; i < n; ++i)
      scores.push_back(static_cast<float>((i * 37 + c * 101) % n) / static_cast<float>(n));
  auto out = Nms(Tensor::FromVector<float>(boxes, {1, n, 4}),
                 Tensor::FromVector<float>(scores, {1, classes, n}), 4, 0.1f)
                 .Run(3);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].shape(), (Shape{classes * 4, 3}));
  const int64_t* sel = (*out)[0].data<int64_t>();
  for (int c = 0; c < classes; ++c)
    for (int j = 0; j < 4; ++j) {
      const int64_t* row = sel + (c * 4 + j) * 3;
      EXPECT_EQ(row[0], 0);
      EXPECT_EQ(row[1], c);
      EXPECT_EQ((row[2] * 37 + c * 101) % n, n - 1 - j);
    }
}

TEST(NonMaxSuppression, HugeLimitKeepsEverythingNonOverlapping) {
  const Tensor boxes = Boxes({0, 0, 1, 1, 5, 5, 6, 6});
  auto out = Nms(boxes, Tensor::FromVector<float>({0.2f, 0.4f}, {1, 1, 2}),
                 std::numeric_limits<int64_t>::max(), 0.5f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 1, 0, 0, 0));
}

TEST(NonMaxSuppression, BadInputs) {
  const Tensor scores = Tensor::FromVector<float>({0.5f, 0.6f}, {1, 1, 2});
  auto wrong_boxes =
      Nms(Tensor::FromVector<float>({0, 0, 1, 1, 0, 0}, {1, 2, 3}), scores, 1, 0.5f).Run();
  ASSERT_FALSE(wrong_boxes.ok());
  EXPECT_EQ(wrong_boxes.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(wrong_boxes.status().message().find("boxes must be [num_batches"), std::string::npos)
      << wrong_boxes.status().ToString();

  auto mismatch = Nms(Boxes({0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}), scores, 1, 0.5f).Run();
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("scores must be"), std::string::npos);

  auto iou = Nms(Boxes({0, 0, 1, 1, 0, 0, 1, 1}), scores, 1, 1.5f).Run();
  ASSERT_FALSE(iou.ok());
  EXPECT_NE(iou.status().message().find("iou_threshold must be in [0, 1]"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
