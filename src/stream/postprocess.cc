#include "stream/postprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace supernova::stream {

Letterbox Letterbox::Fit(int src_w, int src_h, int dst_w, int dst_h) {
  Letterbox l;
  l.scale = std::min(static_cast<float>(dst_w) / static_cast<float>(src_w),
                     static_cast<float>(dst_h) / static_cast<float>(src_h));
  l.pad_x = (static_cast<float>(dst_w) - static_cast<float>(src_w) * l.scale) / 2;
  l.pad_y = (static_cast<float>(dst_h) - static_cast<float>(src_h) * l.scale) / 2;
  return l;
}

Box Letterbox::ToSource(const Box& b, int src_w, int src_h) const {
  auto clip = [](float v, int hi) { return std::clamp(v, 0.0f, static_cast<float>(hi)); };
  return {clip((b.x1 - pad_x) / scale, src_w), clip((b.y1 - pad_y) / scale, src_h),
          clip((b.x2 - pad_x) / scale, src_w), clip((b.y2 - pad_y) / scale, src_h)};
}

Result<std::vector<Detection>> DecodeYolo(const Tensor& output, YoloLayout layout,
                                          float score_threshold) {
  if (output.dtype() != DataType::kFloat32 || output.rank() != 3 || output.dim(0) != 1)
    return Status::InvalidArgument(
        fmt::format("a YOLO output must be float32 [1, ...] of rank 3, not {} {}",
                    DataTypeName(output.dtype()), ShapeToString(output.shape())));
  const bool v5 = layout == YoloLayout::kV5;
  const int64_t n = v5 ? output.dim(1) : output.dim(2);       // candidates
  const int64_t fields = v5 ? output.dim(2) : output.dim(1);  // per candidate
  const int64_t first_class = v5 ? 5 : 4;
  if (fields <= first_class)
    return Status::InvalidArgument(
        fmt::format("a YOLO{} output needs more than {} values per candidate; shape {}",
                    v5 ? "v5" : "v8", first_class, ShapeToString(output.shape())));
  const float* p = output.data<float>();
  // Element f of candidate i, in either layout.
  auto at = [&](int64_t i, int64_t f) { return v5 ? p[i * fields + f] : p[f * n + i]; };
  std::vector<Detection> out;
  for (int64_t i = 0; i < n; ++i) {
    const float objectness = v5 ? at(i, 4) : 1.0f;
    if (objectness < score_threshold) continue;
    int64_t best = first_class;
    for (int64_t f = first_class + 1; f < fields; ++f)
      if (at(i, f) > at(i, best)) best = f;
    const float score = objectness * at(i, best);
    if (score < score_threshold) continue;
    const float cx = at(i, 0), cy = at(i, 1), w = at(i, 2), h = at(i, 3);
    out.push_back({{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2},
                   score,
                   static_cast<int>(best - first_class)});
  }
  return out;
}

std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int max_detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : detections) {
    if (static_cast<int>(kept.size()) >= max_detections) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.class_id == d.class_id && IoU(k.box, d.box) > iou_threshold;
    });
    if (!suppressed) kept.push_back(d);
  }
  return kept;
}

std::vector<Class> TopK(const float* scores, int64_t n, int k) {
  std::vector<int> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  const int64_t m = std::min<int64_t>(std::max(k, 0), n);
  std::partial_sort(ids.begin(), ids.begin() + m, ids.end(), [&](int a, int b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  std::vector<Class> out;
  for (int64_t i = 0; i < m; ++i) out.push_back({ids[i], scores[ids[i]]});
  return out;
}

}  // namespace supernova::stream
