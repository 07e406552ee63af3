#include "stream/postprocess.h"

#include <gtest/gtest.h>

namespace supernova::stream {
namespace {

void ExpectBox(const Box& b, float x1, float y1, float x2, float y2) {
  EXPECT_FLOAT_EQ(b.x1, x1);
  EXPECT_FLOAT_EQ(b.y1, y1);
  EXPECT_FLOAT_EQ(b.x2, x2);
  EXPECT_FLOAT_EQ(b.y2, y2);
}

TEST(Letterbox, FitsAndMapsBack) {
  const Letterbox l = Letterbox::Fit(640, 480, 640, 640);
  EXPECT_FLOAT_EQ(l.scale, 1);
  EXPECT_FLOAT_EQ(l.pad_x, 0);
  EXPECT_FLOAT_EQ(l.pad_y, 80);
  ExpectBox(l.ToSource({10, 90, 110, 190}, 640, 480), 10, 10, 110, 110);
  const Letterbox wide = Letterbox::Fit(1280, 720, 640, 640);
  EXPECT_FLOAT_EQ(wide.scale, 0.5f);
  EXPECT_FLOAT_EQ(wide.pad_y, 140);
  ExpectBox(wide.ToSource({0, 140, 320, 320}, 1280, 720), 0, 0, 640, 360);
  // Boxes reaching into the padding are clipped to the source.
  ExpectBox(wide.ToSource({-5, 100, 700, 600}, 1280, 720), 0, 0, 1280, 720);
}

// Three candidates with two classes, written in the v5 layout (rows) and the v8 layout
// (columns): candidate 1 is below the threshold.
constexpr float kCandidates[3][7] = {
    {100, 50, 20, 10, 0.9f, 0.2f, 0.8f},
    {10, 10, 4, 4, 0.3f, 0.5f, 0.5f},
    {300, 200, 60, 40, 1.0f, 0.7f, 0.1f},
};

TEST(DecodeYolo, V5RowsWithObjectness) {
  Tensor t(DataType::kFloat32, {1, 3, 7});
  for (int i = 0; i < 3; ++i)
    for (int f = 0; f < 7; ++f) t.data<float>()[i * 7 + f] = kCandidates[i][f];
  auto dets = DecodeYolo(t, YoloLayout::kV5, 0.25f);
  ASSERT_TRUE(dets.ok()) << dets.status().ToString();
  ASSERT_EQ(dets->size(), 2u);
  EXPECT_EQ((*dets)[0].class_id, 1);
  EXPECT_FLOAT_EQ((*dets)[0].score, 0.9f * 0.8f);
  ExpectBox((*dets)[0].box, 90, 45, 110, 55);
  EXPECT_EQ((*dets)[1].class_id, 0);
  EXPECT_FLOAT_EQ((*dets)[1].score, 0.7f);
  ExpectBox((*dets)[1].box, 270, 180, 330, 220);
}

TEST(DecodeYolo, V8ColumnsWithoutObjectness) {
  Tensor t(DataType::kFloat32, {1, 6, 3});  // cx, cy, w, h, class 0, class 1
  const int fields[6] = {0, 1, 2, 3, 5, 6};
  for (int i = 0; i < 3; ++i)
    for (int f = 0; f < 6; ++f) t.data<float>()[f * 3 + i] = kCandidates[i][fields[f]];
  auto dets = DecodeYolo(t, YoloLayout::kV8, 0.6f);
  ASSERT_TRUE(dets.ok()) << dets.status().ToString();
  ASSERT_EQ(dets->size(), 2u);
  EXPECT_EQ((*dets)[0].class_id, 1);
  EXPECT_FLOAT_EQ((*dets)[0].score, 0.8f);
  ExpectBox((*dets)[0].box, 90, 45, 110, 55);
  EXPECT_FLOAT_EQ((*dets)[1].score, 0.7f);
}

TEST(DecodeYolo, RefusesShapesThatFitNoLayout) {
  EXPECT_FALSE(DecodeYolo(Tensor(DataType::kFloat32, {3, 7}), YoloLayout::kV5, 0.5f).ok());
  EXPECT_FALSE(DecodeYolo(Tensor(DataType::kFloat32, {1, 3, 5}), YoloLayout::kV5, 0.5f).ok());
  EXPECT_FALSE(DecodeYolo(Tensor(DataType::kFloat32, {1, 4, 9}), YoloLayout::kV8, 0.5f).ok());
  EXPECT_FALSE(DecodeYolo(Tensor(DataType::kInt32, {1, 3, 7}), YoloLayout::kV5, 0.5f).ok());
}

TEST(NonMaxSuppression, PerClassByScore) {
  const std::vector<Detection> dets = {
      {{0, 0, 10, 10}, 0.6f, 0},
      {{1, 1, 11, 11}, 0.9f, 0},    // overlaps the first (IoU 0.68): it wins
      {{1, 1, 11, 11}, 0.5f, 1},    // same place, another class: kept
      {{50, 50, 60, 60}, 0.7f, 0},  // elsewhere: kept
      {{0, 0, 10, 12}, 0.3f, 0},    // overlaps the winner: suppressed
  };
  const std::vector<Detection> kept = NonMaxSuppression(dets, 0.5f);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.7f);
  EXPECT_EQ(kept[2].class_id, 1);
  EXPECT_EQ(NonMaxSuppression(dets, 0.5f, 2).size(), 2u);
  // With a threshold above their overlap, the two class-0 boxes both stay.
  EXPECT_EQ(NonMaxSuppression(dets, 0.9f).size(), 5u);
}

TEST(TopK, BestFirstTiesByLowerId) {
  const float scores[] = {0.1f, 0.5f, 0.3f, 0.5f, 0.05f};
  const std::vector<Class> top = TopK(scores, 5, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 1);
  EXPECT_EQ(top[1].id, 3);
  EXPECT_EQ(top[2].id, 2);
  EXPECT_EQ(TopK(scores, 5, 9).size(), 5u);
  EXPECT_TRUE(TopK(scores, 5, 0).empty());
}

}  // namespace
}  // namespace supernova::stream
