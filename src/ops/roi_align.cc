// RoiAlign (opsets 10 and 16): pools each region of interest of a feature map into a fixed
// output_height x output_width grid by averaging (or taking the largest of) bilinear samples.
//
// A region [x1, y1, x2, y2] is scaled by spatial_scale; half_pixel (opset 16's default) shifts
// it by half a pixel, output_half_pixel (opset 10's only behaviour) does not and stretches
// regions smaller than a pixel to one. Each bin takes sampling_ratio^2 samples (0: adaptive,
// ceil(region / bins) per axis). The arithmetic follows ONNX's reference, including its max
// mode, which takes the largest weighted corner of each sample rather than the largest
// interpolated value, and its rule that a sample more than a pixel outside the map reads 0.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// One bilinear sample: four element offsets in the channel plane and their weights.
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample BilinearSample(double y, double x, int64_t height, int64_t width) {
  Sample s;
  // Written so that NaN positions read zero as well.
  if (!(y >= -1.0 && y <= static_cast<double>(height) && x >= -1.0 &&
        x <= static_cast<double>(width)))
    return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= height - 1) {
    y0 = y1 = height - 1;
    y = static_cast<double>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= width - 1) {
    x0 = x1 = width - 1;
    x = static_cast<double>(x0);
  } else {
    x1 = x0 + 1;
  }
  const double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0);
  const double hy = 1 - ly, hx = 1 - lx;
  s.pos[0] = y0 * width + x0;
  s.pos[1] = y0 * width + x1;
  s.pos[2] = y1 * width + x0;
  s.pos[3] = y1 * width + x1;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

struct Params {
  int64_t out_h, out_w, sampling_ratio;
  double spatial_scale;
  bool half_pixel, max_mode;
};

template <typename T>
void PoolRoi(const Params& p, const T* x, int64_t channels, int64_t height, int64_t width,
             const T* roi, T* y) {
  const double offset = p.half_pixel ? 0.5 : 0.0;
  const double x1 = static_cast<double>(roi[0]) * p.spatial_scale - offset;
  const double y1 = static_cast<double>(roi[1]) * p.spatial_scale - offset;
  double roi_w = static_cast<double>(roi[2]) * p.spatial_scale - offset - x1;
  double roi_h = static_cast<double>(roi[3]) * p.spatial_scale - offset - y1;
  if (!p.half_pixel) {
    roi_w = std::max(roi_w, 1.0);
    roi_h = std::max(roi_h, 1.0);
  }
  const double bin_h = roi_h / static_cast<double>(p.out_h);
  const double bin_w = roi_w / static_cast<double>(p.out_w);
  // Adaptive sampling is bounded so that a huge region cannot ask for billions of samples.
  const auto grid = [&](double extent, int64_t bins) -> int64_t {
    if (p.sampling_ratio > 0) return p.sampling_ratio;
    const double n = std::ceil(extent / static_cast<double>(bins));
    return n >= 1 ? static_cast<int64_t>(std::min(n, 1024.0)) : 0;  // NaN: none
  };
  const int64_t gh = grid(roi_h, p.out_h), gw = grid(roi_w, p.out_w);
  const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
  const int64_t bins = p.out_h * p.out_w, plane = height * width;
  std::vector<Sample> samples(static_cast<size_t>(gh * gw));
  for (int64_t b = 0; b < bins; ++b) {
    // The samples of one bin, shared by every channel.
    const int64_t ph = b / p.out_w, pw = b % p.out_w;
    for (int64_t iy = 0; iy < gh; ++iy) {
      const double yy = y1 + static_cast<double>(ph) * bin_h +
                        (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(gh);
      for (int64_t ix = 0; ix < gw; ++ix) {
        const double xx = x1 + static_cast<double>(pw) * bin_w +
                          (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(gw);
        samples[static_cast<size_t>(iy * gw + ix)] = BilinearSample(yy, xx, height, width);
      }
    }
    for (int64_t c = 0; c < channels; ++c) {
      const T* xc = x + c * plane;
      double v = 0;
      for (size_t k = 0; k < samples.size(); ++k) {
        const Sample& s = samples[k];
        if (p.max_mode) {
          double m = s.w[0] * static_cast<double>(xc[s.pos[0]]);
          for (int q = 1; q < 4; ++q) m = std::max(m, s.w[q] * static_cast<double>(xc[s.pos[q]]));
          v = k == 0 ? m : std::max(v, m);
        } else {
          for (int q = 0; q < 4; ++q) v += s.w[q] * static_cast<double>(xc[s.pos[q]]);
        }
      }
      y[c * bins + b] = static_cast<T>(p.max_mode ? v : v / count);
    }
  }
}

Status RoiAlign(KernelContext& ctx) {
  if (AnyHalfInput(ctx)) return RunWidened(ctx, RoiAlign);
  const Tensor* x = ctx.input(0);
  const Tensor* rois = ctx.input(1);
  const Tensor* batch = ctx.input(2);
  if (!x || !rois || !batch) return ctx.Error("RoiAlign needs X, rois and batch_indices");
  if (x->rank() != 4) return ctx.Error("X must be (N, C, H, W), got " + ShapeToString(x->shape()));
  if (rois->rank() != 2 || rois->dim(1) != 4)
    return ctx.Error("rois must be (num_rois, 4), got " + ShapeToString(rois->shape()));
  if (rois->dtype() != x->dtype()) return ctx.Error("X and rois must share one dtype");
  if (batch->rank() != 1 || batch->dim(0) != rois->dim(0))
    return ctx.Error("batch_indices must be (" + std::to_string(rois->dim(0)) + "), got " +
                     ShapeToString(batch->shape()));
  std::vector<int64_t> batch_of;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *batch, "batch_indices", &batch_of));
  for (int64_t b : batch_of)
    if (b < 0 || b >= x->dim(0))
      return ctx.Error("batch index " + std::to_string(b) + " out of range for N " +
                       std::to_string(x->dim(0)));
  Params p;
  p.out_h = ctx.node.AttrInt("output_height", 1);
  p.out_w = ctx.node.AttrInt("output_width", 1);
  p.sampling_ratio = ctx.node.AttrInt("sampling_ratio", 0);
  p.spatial_scale = ctx.node.AttrFloat("spatial_scale", 1.0f);
  if (p.out_h <= 0 || p.out_w <= 0) return ctx.Error("output_height and output_width must be > 0");
  if (p.sampling_ratio < 0 || p.sampling_ratio > 1024)
    return ctx.Error("sampling_ratio " + std::to_string(p.sampling_ratio) + " out of [0, 1024]");
  const std::string mode = ctx.node.AttrString("mode", "avg");
  if (mode != "avg" && mode != "max") return ctx.Error("mode '" + mode + "' is not avg or max");
  p.max_mode = mode == "max";
  // Opset 10 had no attribute and behaved as output_half_pixel.
  const std::string ctm = ctx.node.AttrString("coordinate_transformation_mode",
                                              ctx.opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return ctx.Error("coordinate_transformation_mode '" + ctm +
                     "' is not half_pixel or output_half_pixel");
  p.half_pixel = ctm == "half_pixel";
  const int64_t num_rois = rois->dim(0), channels = x->dim(1);
  const int64_t height = x->dim(2), width = x->dim(3);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), {num_rois, channels, p.out_h, p.out_w}, &y));
  if (height == 0 || width == 0) {
    if (y->numel() > 0) return ctx.Error("X has an empty spatial dim");
    return Status::Ok();
  }
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t in_image = channels * height * width, out_roi = channels * p.out_h * p.out_w;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && num_rois > 1)
    for (int64_t r = 0; r < num_rois; ++r)
      PoolRoi(p, x->data<T>() + batch_of[r] * in_image, channels, height, width,
              rois->data<T>() + r * 4, y->data<T>() + r * out_roi);
    return Status::Ok();
  });
}

std::optional<Dims> InferRoiAlign(InferContext& ctx) {
  const InferInput& x = ctx.in(0);
  const InferInput& rois = ctx.in(1);
  if (!x.has_rank() || x.dims().size() != 4) return std::nullopt;
  const ir::Dim n = rois.has_rank() && !rois.dims().empty() ? rois.dims()[0] : ir::Dim{};
  return Dims{n, x.dims()[1], DimMath(ctx.node.AttrInt("output_height", 1)).dim(),
              DimMath(ctx.node.AttrInt("output_width", 1)).dim()};
}

constexpr OpDef kOps[] = {
    {"RoiAlign", RoiAlign, InferRoiAlign},
};

}  // namespace

std::span<const OpDef> RoiAlignOps() { return kOps; }

}  // namespace supernova::ops
