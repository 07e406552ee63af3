// BatchNormalization (opsets 7-15), inference form plus the opset 14+ training_mode that
// normalises with the batch statistics and reports updated running statistics.
#include <cmath>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.GetAsDouble(i);
  return v;
}

// Writes a statistics output in the dtype of the matching input.
Status WriteStat(KernelContext& ctx, size_t index, const Tensor& like,
                 const std::vector<double>& values) {
  Tensor& out = ctx.Output(index, like.dtype(), like.shape());
  return DispatchFloat(like.dtype(), [&](auto tag) {
    using S = typename decltype(tag)::type;
    for (size_t i = 0; i < values.size(); ++i) out.data<S>()[i] = static_cast<S>(values[i]);
    return Status::Ok();
  });
}

}  // namespace

Status BatchNormalization(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* params[4] = {ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4)};
  if (!x || !params[0] || !params[1] || !params[2] || !params[3])
    return ctx.Error("BatchNormalization needs X, scale, B, input_mean and input_var");
  if (x->rank() < 2) return ctx.Error("X must have rank >= 2, got " + ShapeToString(x->shape()));
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  const int64_t n_batch = x->dim(0), channels = x->dim(1);
  const int64_t plane = x->rank() > 2 ? x->numel() / std::max<int64_t>(1, n_batch * channels) : 1;
  // Per-channel parameters; opset 7's spatial=0 form gives one per (channel, position).
  const int64_t per = params[0]->numel();
  if (per != channels && per != channels * plane)
    return ctx.Error("scale has " + std::to_string(per) + " values for " +
                     std::to_string(channels) + " channels");
  for (const Tensor* p : params) {
    if (p->numel() != per) return ctx.Error("scale, B, mean and var must have equal sizes");
    if (p->dtype() != DataType::kFloat32 && p->dtype() != DataType::kFloat64)
      return ctx.Unsupported("parameter dtype " + DataTypeName(p->dtype()) + " not supported");
  }
  const int64_t inner = per == channels ? 1 : plane;  // parameters per channel
  const double eps = ctx.node.AttrFloat("epsilon", 1e-5f);
  const bool training = ctx.opset >= 14 && ctx.node.AttrInt("training_mode", 0) != 0;
  if (ctx.opset < 14 && (ctx.output_wanted(1) || ctx.output_wanted(2)))
    return ctx.Unsupported("training outputs before opset 14 are not supported");
  if (training && inner != 1) return ctx.Error("training_mode needs per-channel parameters");

  std::vector<double> scale = AsDoubles(*params[0]), bias = AsDoubles(*params[1]);
  std::vector<double> mean = AsDoubles(*params[2]), var = AsDoubles(*params[3]);
  std::vector<double> batch_mean, batch_var;
  if (training) {
    batch_mean.assign(channels, 0.0);
    batch_var.assign(channels, 0.0);
    const double count = static_cast<double>(n_batch * plane);
    for (int64_t c = 0; c < channels; ++c) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < n_batch; ++n)
        for (int64_t i = 0; i < plane; ++i) s += x->GetAsDouble((n * channels + c) * plane + i);
      const double mu = count > 0 ? s / count : 0.0;
      for (int64_t n = 0; n < n_batch; ++n)
        for (int64_t i = 0; i < plane; ++i) {
          const double dv = x->GetAsDouble((n * channels + c) * plane + i) - mu;
          s2 += dv * dv;
        }
      batch_mean[c] = mu;
      batch_var[c] = count > 0 ? s2 / count : 0.0;
    }
  }
  // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a.
  std::vector<double> a(per), b(per);
  for (int64_t i = 0; i < per; ++i) {
    const double mu = training ? batch_mean[i] : mean[i];
    const double v = training ? batch_var[i] : var[i];
    a[i] = scale[i] / std::sqrt(v + eps);
    b[i] = bias[i] - mu * a[i];
  }
  Tensor& y = ctx.Output(0, x->dtype(), x->shape());
  const int threads = std::max(1, ctx.num_threads);
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    T* yp = y.data<T>();
    const int64_t planes = n_batch * channels;
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * plane > 65536)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % channels;
      const T* xs = xp + p * plane;
      T* ys = yp + p * plane;
      if (inner == 1) {
        const T ac = static_cast<T>(a[c]), bc = static_cast<T>(b[c]);
        for (int64_t i = 0; i < plane; ++i) ys[i] = xs[i] * ac + bc;
      } else {
        for (int64_t i = 0; i < plane; ++i)
          ys[i] = static_cast<T>(xs[i] * a[c * plane + i] + b[c * plane + i]);
      }
    }
    return Status::Ok();
  });
  if (!st.ok() || !training) return st;
  const double momentum = ctx.node.AttrFloat("momentum", 0.9f);
  std::vector<double> run_mean(channels), run_var(channels);
  for (int64_t c = 0; c < channels; ++c) {
    run_mean[c] = mean[c] * momentum + batch_mean[c] * (1 - momentum);
    run_var[c] = var[c] * momentum + batch_var[c] * (1 - momentum);
  }
  if (ctx.output_wanted(1))
    if (Status s = WriteStat(ctx, 1, *params[2], run_mean); !s.ok()) return s;
  if (ctx.output_wanted(2))
    if (Status s = WriteStat(ctx, 2, *params[3], run_var); !s.ok()) return s;
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"BatchNormalization", BatchNormalization, SameShape},
};

}  // namespace

std::span<const OpDef> BatchNormalizationOps() { return kOps; }

}  // namespace supernova::ops
