// DepthToSpace and SpaceToDepth: a reshape, a 6-D transpose and a reshape, done as one
// strided copy.
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Copies `x` viewed as `view` (row-major) with its dims permuted by `perm` into a new output
// of shape `out_shape`.
Status PermutedCopy(KernelContext& ctx, const Tensor& x, const Shape& view,
                    const std::vector<int>& perm, Shape out_shape) {
  const size_t es = DataTypeSize(x.dtype());
  if (es == 0) return ctx.Unsupported("dtype " + DataTypeName(x.dtype()) + " not supported");
  const std::vector<int64_t> st = Strides(view);
  Shape dims(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    dims[k] = view[perm[k]];
    strides[k] = st[perm[k]];
  }
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x.dtype(), std::move(out_shape), &y));
  if (y->numel() > 0) StridedCopy(es, y->raw_data(), x.raw_data(), dims, strides, ctx.num_threads);
  return Status::Ok();
}

Status CheckInput(const KernelContext& ctx, const Tensor* x, int64_t b) {
  if (!x) return ctx.Error("missing input");
  if (x->rank() != 4) return ctx.Error("input must be 4-D, got " + ShapeToString(x->shape()));
  // An upper bound keeps blocksize^2 and the output dims from overflowing.
  if (b <= 0 || b > (int64_t{1} << 16))
    return ctx.Error("blocksize " + std::to_string(b) + " out of range [1, 65536]");
  return Status::Ok();
}

}  // namespace

Status DepthToSpace(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const int64_t b = ctx.node.AttrInt("blocksize", 0);
  SN_RETURN_IF_ERROR(CheckInput(ctx, x, b));
  const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), w = x->dim(3);
  if (c % (b * b) != 0)
    return ctx.Error("channels (" + std::to_string(c) + ") not divisible by blocksize^2 (" +
                     std::to_string(b * b) + ")");
  const int64_t oc = c / (b * b);
  const std::string mode = ctx.node.AttrString("mode", "DCR");
  Shape out = {n, oc, h * b, w * b};
  if (mode == "DCR") return PermutedCopy(ctx, *x, {n, b, b, oc, h, w}, {0, 3, 4, 1, 5, 2}, out);
  if (mode == "CRD") return PermutedCopy(ctx, *x, {n, oc, b, b, h, w}, {0, 1, 4, 2, 5, 3}, out);
  return ctx.Unsupported("mode '" + mode + "' not supported");
}

Status SpaceToDepth(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const int64_t b = ctx.node.AttrInt("blocksize", 0);
  SN_RETURN_IF_ERROR(CheckInput(ctx, x, b));
  const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), w = x->dim(3);
  if (h % b != 0 || w % b != 0)
    return ctx.Error("spatial dims " + ShapeToString(x->shape()) + " not divisible by blocksize " +
                     std::to_string(b));
  return PermutedCopy(ctx, *x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4},
                      {n, c * b * b, h / b, w / b});
}

namespace {
constexpr OpDef kOps[] = {
    {"DepthToSpace", DepthToSpace, SameDtype, OpKind::kDataMovement},
    {"SpaceToDepth", SpaceToDepth, SameDtype, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> DepthToSpaceOps() { return kOps; }

}  // namespace supernova::ops
