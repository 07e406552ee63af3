#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Slice(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  std::vector<int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  if (ctx.opset >= 10) {
    const Tensor* s = ctx.input(1);
    const Tensor* e = ctx.input(2);
    if (!s || !e) return ctx.Error("starts and ends inputs are required");
    SN_RETURN_IF_ERROR(ReadInts(ctx, *s, "starts", &starts));
    SN_RETURN_IF_ERROR(ReadInts(ctx, *e, "ends", &ends));
    if (const Tensor* a = ctx.input(3)) {
      SN_RETURN_IF_ERROR(ReadInts(ctx, *a, "axes", &axes));
      have_axes = true;
    }
    if (const Tensor* st = ctx.input(4)) {
      SN_RETURN_IF_ERROR(ReadInts(ctx, *st, "steps", &steps));
      have_steps = true;
    }
  } else {
    starts = ctx.node.AttrInts("starts");
    ends = ctx.node.AttrInts("ends");
    have_axes = ctx.node.HasAttr("axes");
    axes = ctx.node.AttrInts("axes");
  }
  const size_t n = starts.size();
  if (ends.size() != n)
    return ctx.Error("starts has " + std::to_string(n) + " entries but ends has " +
                     std::to_string(ends.size()));
  if (!have_axes)
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  if (!have_steps) steps.assign(n, 1);
  if (axes.size() != n || steps.size() != n)
    return ctx.Error("starts, ends, axes and steps must have the same length");

  // Per input dim: first index, step and count; untouched dims take everything.
  std::vector<int64_t> first(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1);
  Shape out_shape = x->shape();
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = axes[i];
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &a, r));
    if (seen[a]) return ctx.Error("axis " + std::to_string(axes[i]) + " repeated");
    seen[a] = true;
    const int64_t dim = x->dim(static_cast<size_t>(a));
    const int64_t st = std::max(steps[i], -std::numeric_limits<int64_t>::max());
    if (st == 0) return ctx.Error("steps must not be 0");
    int64_t b = starts[i], e = ends[i];
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    int64_t count;
    if (st > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // -st cannot overflow: INT64_MIN was raised to -INT64_MAX above.
      count = b > e ? (b - e - 1) / (-st) + 1 : 0;
    }
    first[a] = count > 0 ? b : 0;
    step[a] = count > 1 ? st : 1;  // a huge step taken once must not overflow the stride
    out_shape[a] = count;
  }
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  if (y->numel() == 0) return Status::Ok();
  const std::vector<int64_t> in_strides = Strides(x->shape());
  std::vector<int64_t> src_strides(static_cast<size_t>(r));
  int64_t offset = 0;
  for (int64_t k = 0; k < r; ++k) {
    offset += first[k] * in_strides[k];
    src_strides[k] = step[k] * in_strides[k];
  }
  StridedCopy(es, y->raw_data(),
              static_cast<const char*>(x->raw_data()) + offset * static_cast<int64_t>(es),
              out_shape, src_strides, ctx.num_threads);
  return Status::Ok();
}

namespace {
// Rank kept; dims known when every parameter is.
std::optional<Dims> SliceShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims out = ctx.in(0).dims();
  const int64_t r = static_cast<int64_t>(out.size());
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (ctx.opset >= 10) {
    starts = ConstInts(ctx.in(1));
    ends = ConstInts(ctx.in(2));
    axes = ctx.in(3).type ? ConstInts(ctx.in(3)) : std::nullopt;
    steps = ctx.in(4).type ? ConstInts(ctx.in(4)) : std::nullopt;
    if (ctx.in(3).type && !axes) starts.reset();
    if (ctx.in(4).type && !steps) starts.reset();
  } else {
    starts = ctx.node.AttrInts("starts");
    ends = ctx.node.AttrInts("ends");
    if (ctx.node.HasAttr("axes")) axes = ctx.node.AttrInts("axes");
  }
  if (!starts || !ends || starts->size() != ends->size() ||
      (axes && axes->size() != starts->size()) || (steps && steps->size() != starts->size())) {
    for (ir::Dim& d : out) d = ir::Dim{};
    return out;
  }
  for (size_t k = 0; k < starts->size(); ++k) {
    int64_t a = axes ? (*axes)[k] : static_cast<int64_t>(k);
    if (a < 0) a += r;
    if (a < 0 || a >= r) return std::nullopt;
    const int64_t step = steps ? (*steps)[k] : 1;
    if (step == 0) return std::nullopt;
    if (!out[a].known()) continue;
    const int64_t dim = out[a].value;
    // ONNX clamps to [0, dim] for a positive step; for a negative one starts to
    // [0, dim - 1] and ends to [-1, dim - 1].
    auto clamp = [&](int64_t v, bool is_end) {
      if (v < 0) v += dim;
      if (step > 0) return std::clamp<int64_t>(v, 0, dim);
      return std::clamp<int64_t>(v, is_end ? -1 : 0, dim - 1);
    };
    const int64_t b = clamp((*starts)[k], false), e = clamp((*ends)[k], true);
    // b and e lie in [-1, dim]: nothing below overflows, whatever the step.
    int64_t len = 0;
    if (step > 0 && e > b) len = (e - b - 1) / step + 1;
    if (step < 0 && b > e)
      len = step == std::numeric_limits<int64_t>::min() ? 1 : (b - e - 1) / -step + 1;
    out[a] = ir::Dim::Known(len);
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"Slice", Slice, SliceShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> SliceOps() { return kOps; }

}  // namespace supernova::ops
