#include "stream/postprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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

Result<std::vector<Detection>> DecodeSsd(const Tensor& deltas, const Tensor& scores,
                                         const SsdOptions& options, float score_threshold) {
  const int64_t n = static_cast<int64_t>(options.anchors.size());
  auto bad = [](const char* what, const Tensor& t) {
    return t.dtype() != DataType::kFloat32 || t.rank() != 3 || t.dim(0) != 1
               ? fmt::format("SSD {} must be float32 [1, N, k], not {} {}", what,
                             DataTypeName(t.dtype()), ShapeToString(t.shape()))
               : std::string();
  };
  for (const auto& msg : {bad("box deltas", deltas), bad("scores", scores)})
    if (!msg.empty()) return Status::InvalidArgument(msg);
  if (deltas.dim(1) != n || scores.dim(1) != n || deltas.dim(2) < 4)
    return Status::InvalidArgument(
        fmt::format("SSD outputs {} and {} do not fit {} anchors with 4 box values each",
                    ShapeToString(deltas.shape()), ShapeToString(scores.shape()), n));
  const int64_t fields = deltas.dim(2), classes = scores.dim(2);
  const float* d = deltas.data<float>();
  const float* sc = scores.data<float>();
  std::vector<Detection> out;
  for (int64_t i = 0; i < n; ++i) {
    int best = -1;
    float best_score = 0;
    for (int64_t c = 0; c < classes; ++c) {
      if (c == options.background_class) continue;
      float v = sc[i * classes + c];
      if (options.sigmoid) v = 1.0f / (1.0f + std::exp(-std::clamp(v, -80.0f, 80.0f)));
      if (best < 0 || v > best_score) best = static_cast<int>(c), best_score = v;
    }
    if (best < 0 || best_score < score_threshold) continue;
    const float* r = d + i * fields;
    const float dx = options.yx_order ? r[1] : r[0], dy = options.yx_order ? r[0] : r[1];
    const float dw = options.yx_order ? r[3] : r[2], dh = options.yx_order ? r[2] : r[3];
    const Box& a = options.anchors[static_cast<size_t>(i)];
    const float aw = a.width(), ah = a.height();
    const float cx = (a.x1 + a.x2) / 2 + dx / options.center_scale * aw;
    const float cy = (a.y1 + a.y2) / 2 + dy / options.center_scale * ah;
    const float w =
        options.linear_size ? dw / options.size_scale * aw : aw * std::exp(dw / options.size_scale);
    const float h =
        options.linear_size ? dh / options.size_scale * ah : ah * std::exp(dh / options.size_scale);
    out.push_back({{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, best_score, best});
  }
  return out;
}

std::vector<Box> GridAnchors(int input_w, int input_h, const std::vector<int>& strides,
                             const std::vector<int>& per_cell, const std::vector<float>& sizes) {
  std::vector<Box> anchors;
  for (size_t s = 0; s < strides.size() && s < per_cell.size() && s < sizes.size(); ++s) {
    const int stride = strides[s];
    const float half_w = sizes[s] > 0 ? sizes[s] / 2 : static_cast<float>(input_w) / 2;
    const float half_h = sizes[s] > 0 ? sizes[s] / 2 : static_cast<float>(input_h) / 2;
    for (int y = 0; y * stride < input_h; ++y)
      for (int x = 0; x * stride < input_w; ++x)
        for (int k = 0; k < per_cell[s]; ++k) {
          const float cx = (static_cast<float>(x) + 0.5f) * static_cast<float>(stride);
          const float cy = (static_cast<float>(y) + 0.5f) * static_cast<float>(stride);
          anchors.push_back({cx - half_w, cy - half_h, cx + half_w, cy + half_h});
        }
  }
  return anchors;
}

Result<std::vector<Detection>> DecodeCenterNet(const Tensor& heatmap, const Tensor& extents,
                                               bool nhwc, int input_w, float score_threshold) {
  if (heatmap.dtype() != DataType::kFloat32 || heatmap.rank() != 4 || heatmap.dim(0) != 1 ||
      extents.dtype() != DataType::kFloat32 || extents.rank() != 4)
    return Status::InvalidArgument(
        fmt::format("CenterNet outputs must be float32 [1, ...] of rank 4, not {} and {}",
                    ShapeToString(heatmap.shape()), ShapeToString(extents.shape())));
  const int64_t h = nhwc ? heatmap.dim(1) : heatmap.dim(2);
  const int64_t w = nhwc ? heatmap.dim(2) : heatmap.dim(3);
  const int64_t c = nhwc ? heatmap.dim(3) : heatmap.dim(1);
  const Shape want = nhwc ? Shape{1, h, w, 4} : Shape{1, 4, h, w};
  if (extents.shape() != want)
    return Status::InvalidArgument(fmt::format(
        "CenterNet box extents {} do not match the heatmap {} (expected {})",
        ShapeToString(extents.shape()), ShapeToString(heatmap.shape()), ShapeToString(want)));
  const float* hm = heatmap.data<float>();
  const float* ex = extents.data<float>();
  auto heat = [&](int64_t y, int64_t x, int64_t k) {
    return nhwc ? hm[(y * w + x) * c + k] : hm[(k * h + y) * w + x];
  };
  auto extent = [&](int64_t y, int64_t x, int64_t k) {
    return nhwc ? ex[(y * w + x) * 4 + k] : ex[(k * h + y) * w + x];
  };
  const float stride = static_cast<float>(input_w) / static_cast<float>(w);
  std::vector<Detection> out;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) {
        const float v = heat(y, x, k);
        if (v < score_threshold) continue;
        bool peak = true;
        for (int64_t ny = std::max<int64_t>(y - 1, 0); peak && ny <= std::min(y + 1, h - 1); ++ny)
          for (int64_t nx = std::max<int64_t>(x - 1, 0); nx <= std::min(x + 1, w - 1); ++nx)
            if (heat(ny, nx, k) > v) peak = false;
        if (!peak) continue;
        const float px = stride * static_cast<float>(x), py = stride * static_cast<float>(y);
        out.push_back({{px - extent(y, x, 0), py - extent(y, x, 1), px + extent(y, x, 2),
                        py + extent(y, x, 3)},
                       v,
                       static_cast<int>(k)});
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
