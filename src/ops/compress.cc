#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Compress(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* cond = ctx.input(1);
  if (!x || !cond) return ctx.Error("input and condition are required");
  if (cond->dtype() != DataType::kBool) return ctx.Error("condition must be bool");
  if (cond->rank() != 1) return ctx.Error("condition must be 1-D");
  const size_t es = DataTypeSize(x->dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  // Without an axis the input is flattened: one "slice" per element.
  const bool has_axis = ctx.node.HasAttr("axis");
  Shape shape = has_axis ? x->shape() : Shape{x->numel()};
  const int64_t r = static_cast<int64_t>(shape.size());
  int64_t axis = has_axis ? ctx.node.AttrInt("axis", 0) : 0;
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r));
  const int64_t dim = shape[axis];
  // Entries of condition beyond the axis are ignored; missing ones count as false.
  const int64_t n = std::min<int64_t>(dim, cond->numel());
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i)
    if (cond->data<bool>()[i]) keep.push_back(i);
  int64_t O = 1, I = 1;
  for (int64_t k = 0; k < axis; ++k) O *= shape[k];
  for (int64_t k = axis + 1; k < r; ++k) I *= shape[k];
  Shape out_shape = shape;
  out_shape[axis] = static_cast<int64_t>(keep.size());
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  const char* src = static_cast<const char*>(x->raw_data());
  char* dst = static_cast<char*>(y->raw_data());
  const int64_t row = I * static_cast<int64_t>(es);
  const int64_t kn = static_cast<int64_t>(keep.size());
  for (int64_t o = 0; o < O; ++o)
    for (int64_t j = 0; j < kn; ++j)
      std::memcpy(dst + (o * kn + j) * row, src + (o * dim + keep[j]) * row,
                  static_cast<size_t>(row));
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"Compress", Compress, SameDtype, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> CompressOps() { return kOps; }

}  // namespace supernova::ops
