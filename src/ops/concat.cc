#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Concat(KernelContext& ctx) {
  std::vector<const Tensor*> xs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (const Tensor* t = ctx.input(i)) xs.push_back(t);
  if (xs.empty()) return ctx.Error("needs at least one input");
  // Opsets 1-3 default the axis to 1; from opset 4 it is required.
  if (!ctx.node.HasAttr("axis") && ctx.opset >= 4) return ctx.Error("attribute 'axis' is required");
  const Tensor& first = *xs[0];
  const int64_t r = static_cast<int64_t>(first.rank());
  int64_t axis = ctx.node.AttrInt("axis", 1);
  if (r == 0) return ctx.Error("cannot concatenate scalars");
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  Shape out_shape = first.shape();
  out_shape[axis] = 0;
  for (const Tensor* t : xs) {
    if (t->dtype() != first.dtype())
      return ctx.Error("inputs mix " + DataTypeName(first.dtype()) + " and " +
                       DataTypeName(t->dtype()));
    bool ok = static_cast<int64_t>(t->rank()) == r;
    for (int64_t k = 0; ok && k < r; ++k)
      if (k != axis && t->dim(k) != first.dim(k)) ok = false;
    if (!ok)
      return ctx.Error("input shapes " + ShapeToString(first.shape()) + " and " +
                       ShapeToString(t->shape()) + " differ outside axis " + std::to_string(axis));
    out_shape[axis] += t->dim(axis);
  }
  const size_t es = DataTypeSize(first.dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(first.dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, first.dtype(), out_shape, &y));
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= out_shape[k];
  for (int64_t k = axis + 1; k < r; ++k) inner *= out_shape[k];
  const int64_t out_row = out_shape[axis] * inner * static_cast<int64_t>(es);
  // Each (outer index, input) pair is one contiguous block in both source and destination.
  std::vector<int64_t> row_bytes, dst_offset;
  int64_t off = 0;
  for (const Tensor* t : xs) {
    row_bytes.push_back(t->dim(axis) * inner * static_cast<int64_t>(es));
    dst_offset.push_back(off);
    off += row_bytes.back();
  }
  const int64_t n = static_cast<int64_t>(xs.size());
  const int64_t items = outer * n;
  char* dst = static_cast<char*>(y->raw_data());
  if (outer == 1) {  // a few big blocks: split each across the threads instead
    for (int64_t i = 0; i < n; ++i)
      ParallelCopy(dst + dst_offset[i], xs[i]->raw_data(), static_cast<size_t>(row_bytes[i]),
                   ctx.num_threads);
    return Status::Ok();
  }
  const int nt = y->nbytes() >= (256u << 10) ? ctx.num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t o = it / n, i = it % n;
    if (row_bytes[i] == 0) continue;
    std::memcpy(dst + o * out_row + dst_offset[i],
                static_cast<const char*>(xs[i]->raw_data()) + o * row_bytes[i],
                static_cast<size_t>(row_bytes[i]));
  }
  return Status::Ok();
}

namespace {
std::optional<Dims> ConcatShape(InferContext& ctx) {
  for (const InferInput& in : ctx.inputs)
    if (!in.has_rank()) return std::nullopt;
  if (ctx.inputs.empty()) return std::nullopt;
  Dims out = ctx.in(0).dims();
  int64_t axis = ctx.node.AttrInt("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(out.size());
  if (axis < 0 || axis >= static_cast<int64_t>(out.size())) return std::nullopt;
  int64_t sum = 0;
  for (const InferInput& in : ctx.inputs) {
    if (in.dims().size() != out.size()) return std::nullopt;
    if (!in.dims()[axis].known())
      sum = -1;
    else if (sum >= 0)
      sum += in.dims()[axis].value;
  }
  out[axis] = sum >= 0 ? ir::Dim::Known(sum) : ir::Dim{};
  return out;
}

constexpr OpDef kOps[] = {
    {"Concat", Concat, ConcatShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> ConcatOps() { return kOps; }

}  // namespace supernova::ops
