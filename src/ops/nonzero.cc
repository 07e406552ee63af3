#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

template <typename T>
bool IsNonZero(const T& v) {
  if constexpr (std::is_same_v<T, Float16>)
    return (v.bits & 0x7fff) != 0;
  else
    return v != T(0);
}

template <typename T>
Status NonZeroT(KernelContext& ctx, const Tensor& x) {
  const T* p = x.data<T>();
  const int64_t n = x.numel();
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < n; ++i)
    if (IsNonZero(p[i])) hits.push_back(i);
  const int64_t r = static_cast<int64_t>(x.rank());
  const int64_t nnz = static_cast<int64_t>(hits.size());
  // A scalar is treated as one-element 1-D, as numpy and onnxruntime do.
  const int64_t rows = r == 0 ? 1 : r;
  Tensor& y = ctx.Output(0, DataType::kInt64, {rows, nnz});
  int64_t* out = y.data<int64_t>();
  const std::vector<int64_t> strides = Strides(x.shape());
  for (int64_t j = 0; j < nnz; ++j) {
    int64_t rem = hits[j];
    if (r == 0) out[j] = 0;
    for (int64_t k = 0; k < r; ++k) {
      out[k * nnz + j] = rem / strides[k];
      rem %= strides[k];
    }
  }
  return Status::Ok();
}

}  // namespace

Status NonZero(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  switch (x->dtype()) {
    case DataType::kBool:
      return NonZeroT<bool>(ctx, *x);
    case DataType::kFloat16:
      return NonZeroT<Float16>(ctx, *x);
    default:
      break;
  }
  Status s = DispatchNumeric(
      x->dtype(), [&](auto tag) { return NonZeroT<typename decltype(tag)::type>(ctx, *x); });
  return s.ok() ? s : ctx.Unsupported(s.message());
}

namespace {
// [rank, count] of int64.
std::optional<Dims> NonZeroShape(InferContext& ctx) {
  ctx.dtype = DataType::kInt64;
  if (!ctx.in(0).has_rank()) return Dims{ir::Dim{}, ir::Dim{}};
  return Dims{ir::Dim::Known(static_cast<int64_t>(ctx.in(0).dims().size())), ir::Dim{}};
}

constexpr OpDef kOps[] = {
    {"NonZero", NonZero, NonZeroShape},
};

}  // namespace

std::span<const OpDef> NonZeroOps() { return kOps; }

}  // namespace supernova::ops
