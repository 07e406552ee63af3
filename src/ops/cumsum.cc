#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status CumSum(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* axis_t = ctx.input(1);
  if (!x || !axis_t) return ctx.Error("x and axis inputs are required");
  std::vector<int64_t> av;
  SN_RETURN_IF_ERROR(ReadInts(ctx, *axis_t, "axis", &av));
  if (av.size() != 1) return ctx.Error("axis must hold one value");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t axis = av[0];
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const bool exclusive = ctx.node.AttrInt("exclusive", 0) != 0;
  const bool reverse = ctx.node.AttrInt("reverse", 0) != 0;
  int64_t O = 1, I = 1;
  const int64_t R = x->dim(static_cast<size_t>(axis));
  for (int64_t k = 0; k < axis; ++k) O *= x->dim(k);
  for (int64_t k = axis + 1; k < r; ++k) I *= x->dim(k);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), x->shape(), &y));
  Status s = DispatchNumeric(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = y->data<T>();
    for (int64_t o = 0; o < O; ++o) {
      // Walk the axis forwards or backwards; the running sum over the inner dims is the
      // previous output row (plus the previous input row when exclusive).
      for (int64_t step = 0; step < R; ++step) {
        const int64_t rr = reverse ? R - 1 - step : step;
        const int64_t prev = reverse ? rr + 1 : rr - 1;
        const T* in = src + (o * R + rr) * I;
        T* out = dst + (o * R + rr) * I;
        if (step == 0) {
          for (int64_t i = 0; i < I; ++i) out[i] = exclusive ? T(0) : in[i];
          continue;
        }
        const T* last_out = dst + (o * R + prev) * I;
        const T* last_in = src + (o * R + prev) * I;
        if (exclusive) {
          for (int64_t i = 0; i < I; ++i) out[i] = static_cast<T>(last_out[i] + last_in[i]);
        } else {
          for (int64_t i = 0; i < I; ++i) out[i] = static_cast<T>(last_out[i] + in[i]);
        }
      }
    }
    return Status::Ok();
  });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
constexpr OpDef kOps[] = {
    {"CumSum", CumSum, SameShape},
};

}  // namespace

std::span<const OpDef> CumSumOps() { return kOps; }

}  // namespace supernova::ops
