// Detector and classifier post-processing: YOLO (v5 and v8 output layouts), SSD (anchor
// boxes) and CenterNet (heatmap peaks) decoding, class-aware non-maximum suppression, the
// letterbox transform back to source pixels, and top-k. Pure functions over host tensors; the
// stream pipeline and `supernova run` share them.
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

// SSD-style box regression against anchors. `deltas` [1, N, >=4] holds per anchor the
// encoded centre offset and size; `scores` [1, N, C] the class scores (logits when
// `sigmoid`). Anchors are (cx, cy, w, h) in model-input pixels. A centre decodes as
// anchor.c + delta / center_scale * anchor.size and a size as anchor.size * exp(delta /
// size_scale) (the Caffe/TF convention: scales 10 and 5), or, with `linear_size`, as
// delta / size_scale * anchor.size (MediaPipe's, where the anchors have unit size and the
// scales are the input size).
struct SsdOptions {
  std::vector<Box> anchors;  // as corners; only the centre and size matter
  float center_scale = 10, size_scale = 5;
  bool linear_size = false;
  bool yx_order = false;      // deltas as (dy, dx, dh, dw), as TF's object detection API
  bool sigmoid = true;        // scores are logits
  int background_class = -1;  // a class to ignore (0 in many Caffe SSDs), or -1
};
Result<std::vector<Detection>> DecodeSsd(const Tensor& deltas, const Tensor& scores,
                                         const SsdOptions& options, float score_threshold);

// SSD anchors on a grid per feature map: for each stride, cells of stride x stride input
// pixels, `per_cell` anchors centred on each cell, of size `sizes[i]` (square), or where 0 of
// the whole input (MediaPipe's fixed unit anchors). MediaPipe's BlazeFace front model:
// strides {8, 16}, per_cell {2, 6}, sizes {0, 0} on 128 x 128, scales 128, linear sizes.
std::vector<Box> GridAnchors(int input_w, int input_h, const std::vector<int>& strides,
                             const std::vector<int>& per_cell, const std::vector<float>& sizes);

// CenterNet: a class heatmap [1, H, W, C] (nhwc) or [1, C, H, W], already a probability,
// and box extents [1, H, W, 4] / [1, 4, H, W] as (left, top, right, bottom) distances in
// input pixels from the peak's centre. A peak is a cell at least `score_threshold` and no
// less than its 3 x 3 neighbourhood in its class; for a peak at (y, x) the box is
// (s*x - l, s*y - t, s*x + r, s*y + b) with s = input_w / W (the output stride).
Result<std::vector<Detection>> DecodeCenterNet(const Tensor& heatmap, const Tensor& extents,
                                               bool nhwc, int input_w, float score_threshold);

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
