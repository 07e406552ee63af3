// Window geometry shared by the convolution and pooling kernels: reads kernel_shape, strides,
// dilations, pads and auto_pad from a node and resolves the padding and output size of every
// spatial axis, validating the attributes on the way.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "providers/cpu/kernel.h"

namespace supernova::cpu {

struct WindowGeometry {
  std::vector<int64_t> in;      // input spatial dims
  std::vector<int64_t> kernel;  // window size per axis
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;  // padding before the first element of each axis
  std::vector<int64_t> pad_end;
  std::vector<int64_t> out;  // output spatial dims

  size_t rank() const { return in.size(); }
  // Prepends unit axes (size 1, kernel 1, no padding) up to `rank` so that one loop nest
  // serves 1-D, 2-D and 3-D windows.
  void PadToRank(size_t rank);
};

// Reads strides/dilations/pads/auto_pad (defaults 1, 1, 0, NOTSET) for the given input
// spatial dims and window `kernel`, and computes the output dims. `ceil_mode` selects the
// pooling rounding (a last window that would start in the end padding is dropped).
// `allow_dilations` is false for ops whose spec has no dilations attribute (then it must be
// absent or all ones).
inline Status ResolveWindow(const KernelContext& ctx, const std::vector<int64_t>& in_dims,
                            const std::vector<int64_t>& kernel, bool ceil_mode, WindowGeometry* g) {
  const ir::Node& node = ctx.node;
  const size_t d = in_dims.size();
  g->in = in_dims;
  g->kernel = kernel;
  if (kernel.size() != d)
    return ctx.Error("kernel has " + std::to_string(kernel.size()) + " axes, input has " +
                     std::to_string(d) + " spatial axes");
  g->strides = node.AttrInts("strides", std::vector<int64_t>(d, 1));
  g->dilations = node.AttrInts("dilations", std::vector<int64_t>(d, 1));
  if (g->strides.size() != d) return ctx.Error("strides must have one value per spatial axis");
  if (g->dilations.size() != d) return ctx.Error("dilations must have one value per spatial axis");
  for (size_t i = 0; i < d; ++i) {
    if (kernel[i] <= 0) return ctx.Error("kernel dims must be positive");
    if (g->strides[i] <= 0) return ctx.Error("strides must be positive");
    if (g->dilations[i] <= 0) return ctx.Error("dilations must be positive");
    if (in_dims[i] < 0) return ctx.Error("negative input dim");
  }
  std::string auto_pad = node.AttrString("auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  g->pad_begin.assign(d, 0);
  g->pad_end.assign(d, 0);
  g->out.assign(d, 0);
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = node.AttrInts("pads", std::vector<int64_t>(2 * d, 0));
    if (pads.size() != 2 * d) return ctx.Error("pads must have two values per spatial axis");
    for (size_t i = 0; i < d; ++i) {
      g->pad_begin[i] = pads[i];
      g->pad_end[i] = pads[i + d];
      if (pads[i] < 0 || pads[i + d] < 0) return ctx.Error("pads must be non-negative");
    }
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      const int64_t avail = in_dims[i] + g->pad_begin[i] + g->pad_end[i] - span;
      if (avail < 0)
        return ctx.Error("window (" + std::to_string(span) + ") larger than padded input (" +
                         std::to_string(avail + span) + ") on spatial axis " + std::to_string(i));
      int64_t o =
          ceil_mode ? (avail + g->strides[i] - 1) / g->strides[i] + 1 : avail / g->strides[i] + 1;
      if (ceil_mode && (o - 1) * g->strides[i] >= in_dims[i] + g->pad_begin[i]) --o;
      g->out[i] = o;
    }
  } else if (auto_pad == "VALID") {
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      if (in_dims[i] < span) return ctx.Error("window larger than input with auto_pad VALID");
      g->out[i] = (in_dims[i] - span) / g->strides[i] + 1;
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      const int64_t o = (in_dims[i] + g->strides[i] - 1) / g->strides[i];
      const int64_t total = std::max<int64_t>(0, (o - 1) * g->strides[i] + span - in_dims[i]);
      // The odd padding element goes at the end for SAME_UPPER, at the start for SAME_LOWER.
      g->pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g->pad_end[i] = total - g->pad_begin[i];
      g->out[i] = o;
    }
  } else {
    return ctx.Error("unknown auto_pad '" + auto_pad + "'");
  }
  return Status::Ok();
}

// The checks Conv and ConvTranspose share: X and W of one float dtype and rank 3 to 8, an
// optional B of the same dtype, and a positive group that divides the input channels (group
// never exceeds them, so products with it cannot overflow). Reads the group into *group.
inline Status CheckConvOperands(const KernelContext& ctx, const Tensor* x, const Tensor* w,
                                const Tensor* b, int64_t* group) {
  if (!x || !w) return ctx.Error(ctx.node.op_type + " needs inputs X and W");
  if (x->rank() < 3 || x->rank() > 8)
    return ctx.Error("X must have rank 3 to 8 (N, C, spatial...), got " +
                     ShapeToString(x->shape()));
  if (w->rank() != x->rank())
    return ctx.Error("W rank " + std::to_string(w->rank()) + " differs from X rank " +
                     std::to_string(x->rank()));
  if (w->dtype() != x->dtype() || (b && b->dtype() != x->dtype()))
    return ctx.Error("X, W and B must share one dtype");
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  *group = ctx.node.AttrInt("group", 1);
  const int64_t c_in = x->dim(1);
  if (*group <= 0 || *group > std::max<int64_t>(c_in, 1) || c_in % *group != 0)
    return ctx.Error("group " + std::to_string(*group) + " does not divide " +
                     std::to_string(c_in) + " input channels");
  return Status::Ok();
}

// B, when given, must be a vector of one value per output channel.
inline Status CheckConvBias(const KernelContext& ctx, const Tensor* b, int64_t m_out) {
  if (b && (b->rank() != 1 || b->dim(0) != m_out))
    return ctx.Error("B must have shape [" + std::to_string(m_out) + "], got " +
                     ShapeToString(b->shape()));
  return Status::Ok();
}

inline int64_t Product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

// The indices o in [0, count) for which o * stride + offset lies in [0, size) form one run
// [*lo, *hi); computing it once per kernel tap keeps bounds checks out of inner loops.
inline void ValidRange(int64_t offset, int64_t stride, int64_t size, int64_t count, int64_t* lo,
                       int64_t* hi) {
  // o >= ceil(-offset / stride) and o <= floor((size - 1 - offset) / stride).
  const int64_t a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t b = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  *lo = std::min(a, count);
  *hi = std::max(*lo, std::min(b, count));
}

inline void WindowGeometry::PadToRank(size_t r) {
  while (in.size() < r) {
    in.insert(in.begin(), 1);
    kernel.insert(kernel.begin(), 1);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pad_begin.insert(pad_begin.begin(), 0);
    pad_end.insert(pad_end.begin(), 0);
    out.insert(out.begin(), 1);
  }
}

}  // namespace supernova::cpu
