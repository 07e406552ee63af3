#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status OneHot(KernelContext& ctx) {
  const Tensor* indices = ctx.input(0);
  const Tensor* depth_t = ctx.input(1);
  const Tensor* values = ctx.input(2);
  if (!indices || !depth_t || !values) return ctx.Error("indices, depth and values are required");
  if (depth_t->numel() != 1) return ctx.Error("depth must hold one value");
  if (values->numel() != 2) return ctx.Error("values must hold [off_value, on_value]");
  const size_t es = DataTypeSize(values->dtype());
  if (es == 0 || DataTypeSize(indices->dtype()) == 0 || DataTypeSize(depth_t->dtype()) == 0)
    return ctx.Unsupported("string or unknown dtypes are not supported");
  // depth may be any numeric type; a fractional depth is truncated as onnxruntime does.
  const double depth_d = depth_t->GetAsDouble(0);
  if (!(depth_d >= 1) || depth_d > 1e12) return ctx.Error("depth must be positive");
  const int64_t depth = static_cast<int64_t>(depth_d);
  const int64_t r = static_cast<int64_t>(indices->rank()) + 1;
  int64_t axis = ctx.node.AttrInt("axis", -1);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, r, "output rank"));
  Shape out_shape = indices->shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  int64_t O = 1, I = 1;
  for (int64_t k = 0; k < axis; ++k) O *= indices->dim(k);
  for (int64_t k = axis; k < r - 1; ++k) I *= indices->dim(k);
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, values->dtype(), out_shape, &y));
  const char* off = static_cast<const char*>(values->raw_data());
  const char* on = off + es;
  char* dst = static_cast<char*>(y->raw_data());
  const int64_t n = y->numel();
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * es, off, es);
  // Out-of-range indices leave their row at off_value, as the spec says.
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i) {
      const double v = indices->GetAsDouble(o * I + i);
      if (!(v >= -static_cast<double>(depth) && v < static_cast<double>(depth))) continue;
      int64_t d = static_cast<int64_t>(v);
      if (d < 0) d += depth;
      std::memcpy(dst + ((o * depth + d) * I + i) * es, on, es);
    }
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"OneHot", OneHot, nullptr},
};

}  // namespace

std::span<const OpDef> OneHotOps() { return kOps; }

}  // namespace supernova::ops
