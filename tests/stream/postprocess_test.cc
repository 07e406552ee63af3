#include "stream/postprocess.h"

#include <gtest/gtest.h>

#include <cmath>

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

TEST(Ssd, DecodesCaffeAndMediaPipeCodings) {
  // Two anchors of 20 x 10 pixels centred at (50, 40) and (100, 100).
  SsdOptions o;
  o.anchors = {{40, 35, 60, 45}, {90, 95, 110, 105}};
  // Caffe coding: centre moves by delta / 10 anchor sizes, size scales by exp(delta / 5).
  const std::vector<float> deltas = {5, -10, 0, 5 * std::log(2.0f),  // anchor 0
                                     0, 0,   0, 0};                  // anchor 1
  // Logits: anchor 0 is class 1 (p 0.88), anchor 1 is below the threshold.
  const std::vector<float> logits = {-3, 2, -4, -4};
  const Tensor d = Tensor::FromVector(deltas, {1, 2, 4});
  const Tensor sc = Tensor::FromVector(logits, {1, 2, 2});
  auto found = DecodeSsd(d, sc, o, 0.5f);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  const Detection& a = (*found)[0];
  EXPECT_EQ(a.class_id, 1);
  EXPECT_NEAR(a.score, 1 / (1 + std::exp(-2.0f)), 1e-6);
  // Centre (50 + 0.5 * 20, 40 - 1 * 10) = (60, 30); size 20 x 20.
  EXPECT_NEAR(a.box.x1, 50, 1e-4);
  EXPECT_NEAR(a.box.y1, 20, 1e-4);
  EXPECT_NEAR(a.box.x2, 70, 1e-4);
  EXPECT_NEAR(a.box.y2, 40, 1e-4);
  // The background class is never reported.
  o.background_class = 1;
  found = DecodeSsd(d, sc, o, 0.5f);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());

  // MediaPipe coding: unit anchors, deltas in input pixels (scale = input size 128).
  SsdOptions mp;
  mp.anchors = GridAnchors(128, 128, {64}, {1}, {0});  // 4 anchors at (32|96, 32|96)
  ASSERT_EQ(mp.anchors.size(), 4u);
  EXPECT_FLOAT_EQ((mp.anchors[1].x1 + mp.anchors[1].x2) / 2, 96);
  EXPECT_FLOAT_EQ(mp.anchors[1].width(), 128);
  mp.center_scale = mp.size_scale = 128;
  mp.linear_size = true;
  std::vector<float> md(4 * 16, 0), ms(4, -10);
  md[3 * 16 + 0] = 4;  // anchor 3 at (96, 96): centre moves 4 px right
  md[3 * 16 + 2] = 30;
  md[3 * 16 + 3] = 20;  // 30 x 20 box
  ms[3] = 10;
  found =
      DecodeSsd(Tensor::FromVector(md, {1, 4, 16}), Tensor::FromVector(ms, {1, 4, 1}), mp, 0.5f);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_NEAR((*found)[0].box.x1, 100 - 15, 1e-3);
  EXPECT_NEAR((*found)[0].box.y2, 96 + 10, 1e-3);
  // Shapes that do not fit the anchors are an error.
  EXPECT_FALSE(DecodeSsd(Tensor::FromVector(md, {1, 4, 16}), sc, mp, 0.5f).ok());
}

TEST(CenterNet, PeaksBecomeBoxesInBothLayouts) {
  // A 4 x 4 heatmap of 2 classes at stride 4 (16-pixel input): one peak per class, and a
  // cell next to class 0's peak that is high but not a peak.
  const int64_t h = 4, w = 4, c = 2;
  std::vector<float> nhwc(h * w * c, 0.05f), ext(h * w * 4, 0);
  auto at = [&](int64_t y, int64_t x, int64_t k) -> float& { return nhwc[(y * w + x) * c + k]; };
  at(1, 2, 0) = 0.9f;
  at(1, 3, 0) = 0.6f;
  at(3, 0, 1) = 0.7f;
  for (int k = 0; k < 4; ++k) ext[(1 * w + 2) * 4 + k] = static_cast<float>(k + 1);
  auto found = DecodeCenterNet(Tensor::FromVector(nhwc, {1, h, w, c}),
                               Tensor::FromVector(ext, {1, h, w, 4}), true, 16, 0.3f);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 2u);
  const Detection& a = (*found)[0];
  EXPECT_EQ(a.class_id, 0);
  EXPECT_FLOAT_EQ(a.score, 0.9f);
  // Peak at (y 1, x 2) -> centre (8, 4); extents l 1, t 2, r 3, b 4.
  EXPECT_FLOAT_EQ(a.box.x1, 7);
  EXPECT_FLOAT_EQ(a.box.y1, 2);
  EXPECT_FLOAT_EQ(a.box.x2, 11);
  EXPECT_FLOAT_EQ(a.box.y2, 8);
  EXPECT_EQ((*found)[1].class_id, 1);

  // The same outputs channel-first give the same detections.
  std::vector<float> nchw(nhwc.size()), ext_chw(ext.size());
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t k = 0; k < c; ++k) nchw[(k * h + y) * w + x] = at(y, x, k);
      for (int64_t k = 0; k < 4; ++k) ext_chw[(k * h + y) * w + x] = ext[(y * w + x) * 4 + k];
    }
  auto again = DecodeCenterNet(Tensor::FromVector(nchw, {1, c, h, w}),
                               Tensor::FromVector(ext_chw, {1, 4, h, w}), false, 16, 0.3f);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_FLOAT_EQ((*again)[0].box.x2, 11);
  // Extents that do not match the heatmap are an error.
  EXPECT_FALSE(DecodeCenterNet(Tensor::FromVector(nhwc, {1, h, w, c}),
                               Tensor::FromVector(std::vector<float>(h * w * 3), {1, h, w, 3}),
                               true, 16, 0.3f)
                   .ok());
}

}  // namespace
}  // namespace supernova::stream
