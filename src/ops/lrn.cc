// LRN (opsets 1-17): local response normalisation across channels,
//   y = x / (bias + alpha / size * sum of x^2 over the channel window)^beta.
#include <cmath>
#include <memory>
#include <string>

#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {

Status LRN(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  if (x->rank() < 2) return ctx.Error("X must have rank >= 2, got " + ShapeToString(x->shape()));
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  if (!ctx.node.HasAttr("size")) return ctx.Error("size attribute is required");
  const int64_t size = ctx.node.AttrInt("size", 1);
  if (size <= 0) return ctx.Error("size must be positive");
  const double alpha = ctx.node.AttrFloat("alpha", 1e-4f);
  const double beta = ctx.node.AttrFloat("beta", 0.75f);
  const double bias = ctx.node.AttrFloat("bias", 1.0f);
  const int64_t n_batch = x->dim(0), channels = x->dim(1);
  const int64_t plane = x->numel() / std::max<int64_t>(1, n_batch * channels);
  // The window covers floor((size-1)/2) channels before and ceil((size-1)/2) after.
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  Tensor& y = ctx.Output(0, x->dtype(), x->shape());
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    T* yp = y.data<T>();
    const int64_t planes = n_batch * channels;
#pragma omp parallel num_threads(threads) if (threads > 1 && planes * plane * size > 65536)
    {
      std::unique_ptr<T[]> acc(new T[plane]);
#pragma omp for schedule(static)
      for (int64_t p = 0; p < planes; ++p) {
        const int64_t n = p / channels, c = p % channels;
        std::fill(acc.get(), acc.get() + plane, T(0));
        const int64_t c0 = std::max<int64_t>(0, c - before);
        const int64_t c1 = std::min<int64_t>(channels - 1, c + after);
        for (int64_t cc = c0; cc <= c1; ++cc) {
          const T* xs = xp + (n * channels + cc) * plane;
          for (int64_t i = 0; i < plane; ++i) acc[i] += xs[i] * xs[i];
        }
        const T* xs = xp + p * plane;
        T* ys = yp + p * plane;
        const T scale = static_cast<T>(alpha / static_cast<double>(size));
        for (int64_t i = 0; i < plane; ++i)
          ys[i] = xs[i] / std::pow(static_cast<T>(bias) + scale * acc[i], static_cast<T>(beta));
      }
    }
    return Status::Ok();
  });
}

namespace {
constexpr OpDef kOps[] = {
    {"LRN", LRN, SameShape},
};

}  // namespace

std::span<const OpDef> LrnOps() { return kOps; }

}  // namespace supernova::ops
