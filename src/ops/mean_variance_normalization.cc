// MeanVarianceNormalization (opsets 9, 13): Y = (X - mean) / (std + 1e-9), mean and std taken
// over `axes` (default [0, 2, 3]: per channel of an NCHW tensor).
//
// ONNX defines the op as a function computing the variance as E[X^2] - E[X]^2; here it is the
// mean of squared deviations, the same quantity without the cancellation that can turn it
// negative (and the output NaN) for large, nearly constant inputs.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// The function body's epsilon, added to the standard deviation (not to the variance).
constexpr double kEpsilon = 1e-9;

// Calls f(i, g) for each element i of `shape` in row-major order, g being its group: its index
// among the groups formed by the axes not reduced. Walks the index like an odometer, so no
// division per element.
template <typename F>
void ForEachWithGroup(const Shape& shape, const std::vector<bool>& reduced, F&& f) {
  const size_t rank = shape.size();
  // One buffer for both arrays: two made separately trip GCC 12's -Wfree-nonheap-object.
  std::vector<int64_t> state(2 * rank, 0);
  int64_t* gstride = state.data();
  int64_t* coord = state.data() + rank;
  int64_t g = 1;
  for (size_t a = rank; a-- > 0;) {
    if (reduced[a]) continue;
    gstride[a] = g;
    g *= shape[a];
  }
  const int64_t n = NumElements(shape);
  int64_t group = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, group);
    for (size_t a = rank; a-- > 0;) {
      if (++coord[a] < shape[a]) {
        group += gstride[a];
        break;
      }
      group -= gstride[a] * (shape[a] - 1);
      coord[a] = 0;
    }
  }
}

}  // namespace

Status MeanVarianceNormalization(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, MeanVarianceNormalization);
  const Shape& s = x->shape();
  const int64_t rank = static_cast<int64_t>(s.size());
  std::vector<bool> reduced(s.size(), false);
  for (int64_t axis : ctx.node.AttrInts("axes", {0, 2, 3})) {
    SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
    if (reduced[axis]) return ctx.Error("axis " + std::to_string(axis) + " given twice");
    reduced[axis] = true;
  }
  int64_t groups = 1, per_group = 1;
  for (size_t a = 0; a < s.size(); ++a) (reduced[a] ? per_group : groups) *= s[a];
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* py = ctx.Output(0, x->dtype(), s).template data<T>();
    // Two passes in double: mean, then squared deviations from it.
    std::vector<double> mean(static_cast<size_t>(groups), 0.0), var(mean);
    ForEachWithGroup(s, reduced, [&](int64_t i, int64_t g) { mean[g] += px[i]; });
    for (double& m : mean) m /= static_cast<double>(per_group);
    ForEachWithGroup(s, reduced, [&](int64_t i, int64_t g) {
      const double dv = px[i] - mean[g];
      var[g] += dv * dv;
    });
    std::vector<double> inv(static_cast<size_t>(groups));
    for (int64_t g = 0; g < groups; ++g)
      inv[g] = 1.0 / (std::sqrt(var[g] / static_cast<double>(per_group)) + kEpsilon);
    ForEachWithGroup(s, reduced, [&](int64_t i, int64_t g) {
      py[i] = static_cast<T>((px[i] - mean[g]) * inv[g]);
    });
    return Status::Ok();
  });
  return st.ok() ? st : st.WithContext(ctx.node.Label());
}

namespace {
constexpr OpDef kOps[] = {
    {"MeanVarianceNormalization", MeanVarianceNormalization, SameShape},
};

}  // namespace

std::span<const OpDef> MeanVarianceNormalizationOps() { return kOps; }

}  // namespace supernova::ops
