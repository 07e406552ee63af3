#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Trilu(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (x->rank() < 2)
    return ctx.Error("input must have rank >= 2, got " + ShapeToString(x->shape()));
  int64_t k = 0;
  if (const Tensor* kt = ctx.input(1)) {
    std::vector<int64_t> kv;
    SN_RETURN_IF_ERROR(ReadInts(ctx, *kt, "k", &kv));
    if (kv.size() != 1) return ctx.Error("k must hold one value");
    k = kv[0];
  }
  const bool upper = ctx.node.AttrInt("upper", 1) != 0;
  if (DataTypeSize(x->dtype()) == 0)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), x->shape(), &y));
  const int64_t rows = x->dim(x->rank() - 2), cols = x->dim(x->rank() - 1);
  const int64_t mats = rows * cols == 0 ? 0 : x->numel() / (rows * cols);
  // k clamped so that i + k cannot overflow; beyond +-(rows + cols) nothing changes.
  const int64_t kk = std::clamp<int64_t>(k, -(rows + cols), rows + cols);
  return DispatchBySize(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = y->data<T>();
    // Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower); zero is all-bits-0
    // for every dtype, so the copy works by element size.
    for (int64_t m = 0; m < mats; ++m)
      for (int64_t i = 0; i < rows; ++i) {
        const T* s = src + (m * rows + i) * cols;
        T* d = dst + (m * rows + i) * cols;
        const int64_t edge = std::clamp<int64_t>(upper ? i + kk : i + kk + 1, 0, cols);
        // upper: [0, edge) zero, [edge, cols) kept; lower: [0, edge) kept, rest zero.
        for (int64_t j = 0; j < cols; ++j) {
          const bool keep = upper ? j >= edge : j < edge;
          d[j] = keep ? s[j] : T(0);
        }
      }
    return Status::Ok();
  });
}

namespace {
constexpr OpDef kOps[] = {
    {"Trilu", Trilu, SameShape},
};

}  // namespace

std::span<const OpDef> TriluOps() { return kOps; }

}  // namespace supernova::ops
