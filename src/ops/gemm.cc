// Gemm (opsets 7-17): Y = alpha * op(A) * op(B) + beta * C, C broadcast to [M, N].
#include <algorithm>

#include "ops/dense_gemm.h"
#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {

Status Gemm(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  const Tensor* c = ctx.input(2);
  if (!a || !b) return ctx.Error("Gemm needs inputs A and B");
  if (a->rank() != 2 || b->rank() != 2)
    return ctx.Error("A and B must be 2-D, got " + ShapeToString(a->shape()) + " and " +
                     ShapeToString(b->shape()));
  if (a->dtype() != b->dtype() || (c && c->dtype() != a->dtype()))
    return ctx.Error("A, B and C must share one dtype");
  if (a->dtype() != DataType::kFloat32 && a->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(a->dtype()) + " not supported");
  const bool trans_a = ctx.node.AttrInt("transA", 0) != 0;
  const bool trans_b = ctx.node.AttrInt("transB", 0) != 0;
  const int64_t m = trans_a ? a->dim(1) : a->dim(0);
  const int64_t k = trans_a ? a->dim(0) : a->dim(1);
  const int64_t kb = trans_b ? b->dim(1) : b->dim(0);
  const int64_t n = trans_b ? b->dim(0) : b->dim(1);
  if (k != kb)
    return ctx.Error("inner dims differ: op(A) is " + std::to_string(m) + "x" + std::to_string(k) +
                     ", op(B) is " + std::to_string(kb) + "x" + std::to_string(n));
  // C broadcasts unidirectionally to [M, N]: right-aligned dims must be 1 or equal.
  int64_t c_rows = 1, c_cols = 1;
  if (c) {
    const Shape& cs = c->shape();
    if (cs.size() > 2) return ctx.Error("C must have rank <= 2, got " + ShapeToString(cs));
    if (cs.size() >= 1) c_cols = cs.back();
    if (cs.size() == 2) c_rows = cs[0];
    if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n))
      return ctx.Error("C " + ShapeToString(cs) + " does not broadcast to [" + std::to_string(m) +
                       "," + std::to_string(n) + "]");
  }
  const float alpha = ctx.node.AttrFloat("alpha", 1.0f);
  const float beta = ctx.node.AttrFloat("beta", 1.0f);
  Tensor& y = ctx.Output(0, a->dtype(), {m, n});
  return DispatchFloat(a->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* yp = y.data<T>();
    T gemm_beta = T(0);
    if (c && beta != 0.0f) {
      // Seed Y with beta * C so the product accumulates onto it.
      const T* cp = c->data<T>();
      for (int64_t i = 0; i < m; ++i) {
        const T* crow = cp + (c_rows == 1 ? 0 : i * c_cols);
        T* yrow = yp + i * n;
        if (c_cols == 1)
          std::fill(yrow, yrow + n, T(beta) * crow[0]);
        else
          for (int64_t j = 0; j < n; ++j) yrow[j] = T(beta) * crow[j];
      }
      gemm_beta = T(1);
    }
    DenseGemm<T>(trans_a, trans_b, m, n, k, T(alpha), a->data<T>(), a->dim(1), b->data<T>(),
                 b->dim(1), gemm_beta, yp, n, ctx.num_threads);
    return Status::Ok();
  });
}

namespace {
std::optional<Dims> GemmShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank() || !ctx.in(1).has_rank()) return std::nullopt;
  const Dims &a = ctx.in(0).dims(), &b = ctx.in(1).dims();
  if (a.size() != 2 || b.size() != 2) return std::nullopt;
  return Dims{ctx.node.AttrInt("transA", 0) ? a[1] : a[0],
              ctx.node.AttrInt("transB", 0) ? b[0] : b[1]};
}

constexpr OpDef kOps[] = {
    {"Gemm", Gemm, GemmShape},
};

}  // namespace

std::span<const OpDef> GemmOps() { return kOps; }

}  // namespace supernova::ops
