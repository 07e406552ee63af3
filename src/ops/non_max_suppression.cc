// NonMaxSuppression (opsets 10-17): greedy per-class box selection by score and IoU.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "ops/op.h"

namespace supernova::ops {
namespace {

// A box as corners with x1 <= x2 and y1 <= y2, whichever corners or centre form it came in.
struct Box {
  float x1, y1, x2, y2;
  float area() const { return (x2 - x1) * (y2 - y1); }
};

float IoU(const Box& a, const Box& b) {
  const float area_a = a.area(), area_b = b.area();
  if (!(area_a > 0) || !(area_b > 0)) return 0;
  const float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (!(w > 0) || !(h > 0)) return 0;
  const float inter = w * h;
  const float uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0;
}

Status ReadFloats(KernelContext& ctx, const Tensor& t, const char* what, std::vector<float>& out) {
  out.resize(static_cast<size_t>(t.numel()));
  if (t.dtype() == DataType::kFloat32) {
    std::copy(t.data<float>(), t.data<float>() + t.numel(), out.begin());
  } else if (t.dtype() == DataType::kFloat64) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(t.data<double>()[i]);
  } else {
    return ctx.Error(std::string(what) + " must be float, got " + DataTypeName(t.dtype()));
  }
  return Status::Ok();
}

}  // namespace

Status NonMaxSuppression(KernelContext& ctx) {
  const Tensor* boxes_t = ctx.input(0);
  const Tensor* scores_t = ctx.input(1);
  if (!boxes_t || !scores_t) return ctx.Error("missing input boxes or scores");
  if (boxes_t->rank() != 3 || boxes_t->dim(2) != 4)
    return ctx.Error("boxes must be [num_batches, spatial_dimension, 4], got " +
                     ShapeToString(boxes_t->shape()));
  const int64_t batches = boxes_t->dim(0), num_boxes = boxes_t->dim(1);
  if (scores_t->rank() != 3 || scores_t->dim(0) != batches || scores_t->dim(2) != num_boxes)
    return ctx.Error("scores must be [num_batches, num_classes, spatial_dimension] = [" +
                     std::to_string(batches) + ",C," + std::to_string(num_boxes) + "], got " +
                     ShapeToString(scores_t->shape()));
  const int64_t classes = scores_t->dim(1);

  int64_t max_out = 0;
  if (const Tensor* t = ctx.input(2); t && t->numel() > 0) {
    if (t->numel() != 1) return ctx.Error("max_output_boxes_per_class must hold one value");
    max_out = t->GetAsInt64(0);
  }
  float iou_threshold = 0;
  if (const Tensor* t = ctx.input(3); t && t->numel() > 0) {
    if (t->numel() != 1) return ctx.Error("iou_threshold must hold one value");
    iou_threshold = static_cast<float>(t->GetAsDouble(0));
    if (!(iou_threshold >= 0 && iou_threshold <= 1))
      return ctx.Error("iou_threshold must be in [0, 1], got " + std::to_string(iou_threshold));
  }
  bool has_score_threshold = false;
  float score_threshold = 0;
  if (const Tensor* t = ctx.input(4); t && t->numel() > 0) {
    if (t->numel() != 1) return ctx.Error("score_threshold must hold one value");
    has_score_threshold = true;
    score_threshold = static_cast<float>(t->GetAsDouble(0));
  }
  const int64_t center_point_box = ctx.node.AttrInt("center_point_box", 0);
  if (center_point_box != 0 && center_point_box != 1)
    return ctx.Error("center_point_box must be 0 or 1, got " + std::to_string(center_point_box));

  std::vector<float> raw_boxes, scores;
  SN_RETURN_IF_ERROR(ReadFloats(ctx, *boxes_t, "boxes", raw_boxes));
  SN_RETURN_IF_ERROR(ReadFloats(ctx, *scores_t, "scores", scores));
  std::vector<Box> boxes(static_cast<size_t>(batches * num_boxes));
  for (size_t i = 0; i < boxes.size(); ++i) {
    const float* b = &raw_boxes[i * 4];
    if (center_point_box) {  // [x_center, y_center, width, height]
      boxes[i] = {b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2};
    } else {  // [y1, x1, y2, x2], any diagonal
      boxes[i] = {std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]),
                  std::max(b[0], b[2])};
    }
  }

  const int64_t limit = std::clamp<int64_t>(max_out, 0, num_boxes);
  const int64_t groups = batches * classes;
  std::vector<std::vector<int64_t>> selected(static_cast<size_t>(groups));
  if (limit > 0) {
#pragma omp parallel for num_threads(ctx.num_threads) \
    schedule(dynamic) if (groups > 1 && num_boxes > 256)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t b = g / classes;
      const float* s = &scores[static_cast<size_t>(g * num_boxes)];
      const Box* bx = &boxes[static_cast<size_t>(b * num_boxes)];
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < num_boxes; ++i)
        if (!std::isnan(s[i]) && (!has_score_threshold || s[i] > score_threshold))
          cand.push_back(i);
      // Highest score first; equal scores keep the lower box index first.
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t a, int64_t c) { return s[a] > s[c]; });
      std::vector<int64_t>& keep = selected[static_cast<size_t>(g)];
      for (int64_t i : cand) {
        bool suppressed = false;
        for (int64_t j : keep)
          if (IoU(bx[i], bx[j]) > iou_threshold) {
            suppressed = true;
            break;
          }
        if (suppressed) continue;
        keep.push_back(i);
        if (static_cast<int64_t>(keep.size()) >= limit) break;
      }
    }
  }
  int64_t total = 0;
  for (const auto& k : selected) total += static_cast<int64_t>(k.size());
  Tensor& out = ctx.Output(0, DataType::kInt64, {total, 3});
  int64_t* o = out.data<int64_t>();
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i : selected[static_cast<size_t>(g)]) {
      *o++ = g / classes;
      *o++ = g % classes;
      *o++ = i;
    }
  return Status::Ok();
}

namespace {
// Selected boxes: [num_selected, 3] of int64 (batch, class, box).
std::optional<Dims> SelectedIndicesShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt64;
  return Dims{ir::Dim{}, ir::Dim::Known(3)};
}

constexpr OpDef kOps[] = {
    {"NonMaxSuppression", NonMaxSuppression, SelectedIndicesShape},
};

}  // namespace

std::span<const OpDef> NonMaxSuppressionOps() { return kOps; }

}  // namespace supernova::ops
