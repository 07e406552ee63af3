// Detector and classifier post-processing: YOLO (v5 and v8 output layouts) decoding,
// class-aware non-maximum suppression, the letterbox transform back to source pixels, and
// top-k. Pure functions over host tensors; the stream pipeline and `supernova run` share them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stream/tracker.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::stream {

// How a source image was fitted into the model's input: scaled by `scale` (aspect kept) and
// padded by pad_x/pad_y on the left/top.
struct Letterbox {
  float scale = 1, pad_x = 0, pad_y = 0;
  // The letterbox that fits src_w x src_h into dst_w x dst_h, centred.
  static Letterbox Fit(int src_w, int src_h, int dst_w, int dst_h);
  // A box in model-input pixels back in source pixels, clipped to the source.
  Box ToSource(const Box& b, int src_w, int src_h) const;
};

enum class YoloLayout {
  kV5,  // [1, N, 5 + C]: cx, cy, w, h, objectness, C class scores; score = obj * class
  kV8,  // [1, 4 + C, N]: cx, cy, w, h, C class scores (no objectness)
};

// Candidates above `score_threshold`, each with its best class, boxes in model-input pixels.
// Fails on a tensor whose shape fits neither layout's description.
Result<std::vector<Detection>> DecodeYolo(const Tensor& output, YoloLayout layout,
                                          float score_threshold);

// Keeps, per class, the highest-scoring boxes that overlap no kept box of the same class by
// more than `iou_threshold`; at most `max_detections` in all, by descending score.
std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int max_detections = 300);

struct Class {
  int id = 0;
  float score = 0;
};
// The k best entries of a score vector, by descending score (ties: lower id first).
std::vector<Class> TopK(const float* scores, int64_t n, int k);

}  // namespace supernova::stream
