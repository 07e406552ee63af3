// Det (opsets 11, 22): the determinant of each square matrix in the last two dims, [*, M, M]
// -> [*], by Gaussian elimination with partial pivoting in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// Determinant of the m x m row-major matrix `a`, which it overwrites with its elimination.
double Determinant(double* a, int64_t m) {
  double det = 1;
  for (int64_t k = 0; k < m; ++k) {
    // The largest pivot keeps the elimination's multipliers at most 1 in magnitude.
    int64_t p = k;
    for (int64_t r = k + 1; r < m; ++r)
      if (std::fabs(a[r * m + k]) > std::fabs(a[p * m + k])) p = r;
    if (a[p * m + k] == 0) return 0.0;
    if (p != k) {
      std::swap_ranges(a + k * m, a + (k + 1) * m, a + p * m);
      det = -det;
    }
    const double pivot = a[k * m + k];
    det *= pivot;
    for (int64_t r = k + 1; r < m; ++r) {
      const double f = a[r * m + k] / pivot;
      for (int64_t c = k + 1; c < m; ++c) a[r * m + c] -= f * a[k * m + c];
    }
  }
  return det;
}

}  // namespace

Status Det(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, Det);
  const Shape& s = x->shape();
  if (s.size() < 2 || s[s.size() - 1] != s[s.size() - 2])
    return ctx.Error("input must be [*, M, M], got " + ShapeToString(s));
  const int64_t m = s.back();
  const Shape batch(s.begin(), s.end() - 2);
  const int64_t count = NumElements(batch);
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* py = ctx.Output(0, x->dtype(), batch).template data<T>();
#pragma omp parallel for num_threads(ctx.num_threads) \
    schedule(static) if (ctx.num_threads > 1 && count * m * m * m >= (1 << 18))
    for (int64_t b = 0; b < count; ++b) {
      std::vector<double> a(px + b * m * m, px + (b + 1) * m * m);
      py[b] = static_cast<T>(Determinant(a.data(), m));
    }
    return Status::Ok();
  });
  return st.ok() ? st : st.WithContext(ctx.node.Label());
}

namespace {

// The input's dims without its last two.
std::optional<Dims> DetShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank() || ctx.in(0).dims().size() < 2) return std::nullopt;
  const Dims& d = ctx.in(0).dims();
  return Dims(d.begin(), d.end() - 2);
}

constexpr OpDef kOps[] = {
    {"Det", Det, DetShape},
};

}  // namespace

std::span<const OpDef> DetOps() { return kOps; }

}  // namespace supernova::ops
