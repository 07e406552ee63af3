// InstanceNormalization (opsets 6-17): each (n, c) plane normalised by its own mean and
// variance, then scaled and shifted per channel.
#include <cmath>
#include <string>

#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {

Status InstanceNormalization(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* bias = ctx.input(2);
  if (!x || !scale || !bias) return ctx.Error("InstanceNormalization needs X, scale and B");
  if (x->rank() < 3)
    return ctx.Error("X must have rank >= 3 (N, C, spatial...), got " + ShapeToString(x->shape()));
  if (scale->dtype() != x->dtype() || bias->dtype() != x->dtype())
    return ctx.Error("X, scale and B must share one dtype");
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  const int64_t n_batch = x->dim(0), channels = x->dim(1);
  if (scale->numel() != channels || bias->numel() != channels)
    return ctx.Error("scale and B must have " + std::to_string(channels) + " values");
  const int64_t plane = x->numel() / std::max<int64_t>(1, n_batch * channels);
  const double eps = ctx.node.AttrFloat("epsilon", 1e-5f);
  Tensor& y = ctx.Output(0, x->dtype(), x->shape());
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    const T* sp = scale->data<T>();
    const T* bp = bias->data<T>();
    T* yp = y.data<T>();
    const int64_t planes = n_batch * channels;
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * plane > 65536)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % channels;
      const T* xs = xp + p * plane;
      T* ys = yp + p * plane;
      // Two passes in double: a large plane's single-pass variance loses precision.
      double sum = 0;
      for (int64_t i = 0; i < plane; ++i) sum += xs[i];
      const double mean = plane > 0 ? sum / static_cast<double>(plane) : 0.0;
      double sq = 0;
      for (int64_t i = 0; i < plane; ++i) {
        const double dv = xs[i] - mean;
        sq += dv * dv;
      }
      const double var = plane > 0 ? sq / static_cast<double>(plane) : 0.0;
      const double a = sp[c] / std::sqrt(var + eps);
      const T at = static_cast<T>(a), bt = static_cast<T>(bp[c] - mean * a);
      for (int64_t i = 0; i < plane; ++i) ys[i] = xs[i] * at + bt;
    }
    return Status::Ok();
  });
}

namespace {
constexpr OpDef kOps[] = {
    {"InstanceNormalization", InstanceNormalization, SameShape},
};

}  // namespace

std::span<const OpDef> InstanceNormalizationOps() { return kOps; }

}  // namespace supernova::ops
