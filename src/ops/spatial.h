// What the convolution and pooling kernels share: window geometry (ops/window.h, which the
// other providers use too), operand checks and index ranges.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/kernel.h"
#include "ops/window.h"

namespace supernova::ops {

// ResolveWindow for a kernel: errors name the node.
inline Status ResolveWindow(const KernelContext& ctx, const std::vector<int64_t>& in_dims,
                            const std::vector<int64_t>& kernel, bool ceil_mode, WindowGeometry* g) {
  return ResolveWindow(ctx.node, in_dims, kernel, ceil_mode, g);
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

}  // namespace supernova::ops
