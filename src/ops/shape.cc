// Shape and Size: metadata of the input as int64 tensors.
#include <algorithm>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status ShapeOp(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  int64_t start = 0, end = r;
  if (ctx.opset >= 15) {
    // Out-of-range start/end are clamped, not errors (opset 15 spec).
    start = ctx.node.AttrInt("start", 0);
    end = ctx.node.AttrInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
  }
  const int64_t n = std::max<int64_t>(0, end - start);
  Tensor& y = ctx.Output(0, DataType::kInt64, {n});
  for (int64_t i = 0; i < n; ++i) y.data<int64_t>()[i] = x->dim(static_cast<size_t>(start + i));
  return Status::Ok();
}

Status Size(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  Tensor& y = ctx.Output(0, DataType::kInt64, {});
  y.data<int64_t>()[0] = x->numel();
  return Status::Ok();
}

namespace {
std::optional<Dims> ShapeShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt64;
  if (!ctx.in(0).has_rank()) return Dims{ir::Dim{}};
  const int64_t r = static_cast<int64_t>(ctx.in(0).dims().size());
  int64_t start = ctx.node.AttrInt("start", 0), end = ctx.node.AttrInt("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  return Dims{ir::Dim::Known(std::max<int64_t>(0, end - start))};
}

std::optional<Dims> SizeShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt64;
  return Dims{};
}

constexpr OpDef kOps[] = {
    {"Shape", ShapeOp, ShapeShape, OpKind::kDataMovement},
    {"Size", Size, SizeShape},
};

}  // namespace

std::span<const OpDef> ShapeOps() { return kOps; }

}  // namespace supernova::ops
