// TopK (opsets 1-17): the k largest (or smallest) elements along an axis and their indices.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// A strict weak order even with NaN (NaN ranks above every number, as in numpy), so that
// std::sort never sees an inconsistent comparator on user data.
template <typename T>
inline bool Greater(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a > b;
}

template <typename T>
void TopKSlices(const Tensor& x, Tensor& values, Tensor& indices, int64_t axis, int64_t k,
                bool largest, int num_threads) {
  const int64_t len = x.dim(static_cast<size_t>(axis));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(static_cast<size_t>(d));
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const T* src = x.data<T>();
  T* out_v = values.data<T>();
  int64_t* out_i = indices.data<int64_t>();
  const int64_t slices = outer * inner;
#pragma omp parallel num_threads(num_threads) if (slices > 1 && slices * len > 65536)
  {
    std::vector<T> vals(static_cast<size_t>(len));
    std::vector<int64_t> order(static_cast<size_t>(len));
#pragma omp for schedule(static)
    for (int64_t s = 0; s < slices; ++s) {
      const int64_t o = s / inner, j = s % inner;
      const T* in = src + o * len * inner + j;
      for (int64_t i = 0; i < len; ++i) vals[i] = in[i * inner];
      std::iota(order.begin(), order.end(), int64_t{0});
      // Equal values keep the lower index first, as the spec requires.
      const auto before = [&](int64_t a, int64_t b) {
        const T va = vals[a], vb = vals[b];
        if (largest ? Greater(va, vb) : Greater(vb, va)) return true;
        if (largest ? Greater(vb, va) : Greater(va, vb)) return false;
        return a < b;
      };
      if (k < len) {
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      } else {
        std::sort(order.begin(), order.end(), before);
      }
      T* ov = out_v + o * k * inner + j;
      int64_t* oi = out_i + o * k * inner + j;
      for (int64_t i = 0; i < k; ++i) {
        ov[i * inner] = vals[order[i]];
        oi[i * inner] = order[i];
      }
    }
  }
}

}  // namespace

Status TopK(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  if (ctx.num_outputs() < 2) return ctx.Error("TopK has two outputs, Values and Indices");
  int64_t k = 0;
  if (ctx.opset < 10) {
    if (!ctx.node.HasAttr("k")) return ctx.Error("missing attribute k");
    k = ctx.node.AttrInt("k", 0);
  } else {
    const Tensor* kt = ctx.input(1);
    if (!kt) return ctx.Error("missing input K");
    if (kt->dtype() != DataType::kInt64 || kt->numel() != 1)
      return ctx.Error("K must be a single int64 value, got " + DataTypeName(kt->dtype()) +
                       ShapeToString(kt->shape()));
    k = kt->data<int64_t>()[0];
  }
  const int64_t rank = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.node.AttrInt("axis", -1);
  if (rank == 0) return ctx.Error("input must have rank >= 1");
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
  const int64_t len = x->dim(static_cast<size_t>(axis));
  if (k < 0) return ctx.Error("k must be non-negative, got " + std::to_string(k));
  if (k > len)
    return ctx.Error("k (" + std::to_string(k) + ") is larger than axis " + std::to_string(axis) +
                     " of input " + ShapeToString(x->shape()));
  const bool largest = ctx.opset < 11 || ctx.node.AttrInt("largest", 1) != 0;
  // sorted=0 leaves the order unspecified; returning sorted results satisfies both settings.

  Shape out_shape = x->shape();
  out_shape[static_cast<size_t>(axis)] = k;
  Tensor& values = ctx.Output(0, x->dtype(), out_shape);
  Tensor& indices = ctx.Output(1, DataType::kInt64, out_shape);
  if (values.numel() == 0) return Status::Ok();
  Status st = DispatchNumeric(x->dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    TopKSlices<T>(*x, values, indices, axis, k, largest, ctx.num_threads);
    return Status::Ok();
  });
  return st.ok() ? st : ctx.Unsupported(st.message());
}

namespace {
constexpr OpDef kOps[] = {
    {"TopK", TopK, SameDtype},
};

}  // namespace

std::span<const OpDef> TopKOps() { return kOps; }

}  // namespace supernova::ops
