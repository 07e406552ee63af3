#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {

Status Transpose(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t r = static_cast<int64_t>(x->rank());
  std::vector<int64_t> perm = ctx.node.AttrInts("perm");
  if (!ctx.node.HasAttr("perm")) {
    for (int64_t k = r - 1; k >= 0; --k) perm.push_back(k);
  }
  if (static_cast<int64_t>(perm.size()) != r)
    return ctx.Error("perm has " + std::to_string(perm.size()) + " entries for an input of rank " +
                     std::to_string(r));
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t& p : perm) {
    if (!NormalizeAxis(p, r) || seen[static_cast<size_t>(p)])
      return ctx.Error("perm is not a permutation of 0.." + std::to_string(r - 1));
    seen[static_cast<size_t>(p)] = true;
  }
  const std::vector<int64_t> in_strides = Strides(x->shape());
  Shape out_shape(static_cast<size_t>(r));
  std::vector<int64_t> src_strides(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) {
    out_shape[k] = x->dim(static_cast<size_t>(perm[k]));
    src_strides[k] = in_strides[static_cast<size_t>(perm[k])];
  }
  if (DataTypeSize(x->dtype()) == 0)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  Tensor* y;
  SN_RETURN_IF_ERROR(AllocOutput(ctx, 0, x->dtype(), out_shape, &y));
  StridedCopy(DataTypeSize(x->dtype()), y->raw_data(), x->raw_data(), out_shape, src_strides,
              ctx.num_threads);
  return Status::Ok();
}

namespace {
std::optional<Dims> TransposeShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  std::vector<int64_t> perm = ctx.node.AttrInts("perm");
  if (perm.empty())
    for (size_t i = 0; i < x.size(); ++i) perm.push_back(static_cast<int64_t>(x.size() - 1 - i));
  if (perm.size() != x.size()) return std::nullopt;
  Dims out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.size())) return std::nullopt;
    out.push_back(x[p]);
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"Transpose", Transpose, TransposeShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> TransposeOps() { return kOps; }

}  // namespace supernova::ops
