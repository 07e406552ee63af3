// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12-13): one gather-and-reduce
// kernel; SoftmaxCrossEntropyLoss feeds it the log-softmax of its scores along the class axis.
//
// Inputs are viewed as [N, C, D] (D: the product of d1..dk, 1 for [N, C]) and targets as
// [N, D]. A target equal to `ignore_index` contributes neither loss nor weight; any other
// target must lie in [0, C). "mean" divides by the summed weights of the samples kept (their
// count without `weight`), so a batch whose samples are all ignored gives 0/0 = NaN, as the
// ONNX reference does.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

enum class Reduction { kNone, kSum, kMean };

std::optional<Reduction> ParseReduction(const ir::Node& node) {
  const std::string r = node.AttrString("reduction", "mean");
  if (r == "none") return Reduction::kNone;
  if (r == "sum") return Reduction::kSum;
  if (r == "mean") return Reduction::kMean;
  return std::nullopt;
}

// The checked operands of either loss; `x` is the log-probabilities or the scores.
struct LossArgs {
  const Tensor* x = nullptr;
  const Tensor* target = nullptr;
  const Tensor* weight = nullptr;  // nullptr when omitted
  Reduction reduction = Reduction::kMean;
  std::optional<int64_t> ignore_index;
  int64_t n = 0, c = 0, d = 1;
};

Status CheckArgs(const KernelContext& ctx, LossArgs* a) {
  a->x = ctx.input(0);
  a->target = ctx.input(1);
  a->weight = ctx.input(2);
  if (!a->x || !a->target) return ctx.Error("needs an input and a target");
  const auto reduction = ParseReduction(ctx.node);
  if (!reduction)
    return ctx.Error("reduction '" + ctx.node.AttrString("reduction", "") +
                     "' is not none, sum or mean");
  a->reduction = *reduction;
  if (ctx.node.HasAttr("ignore_index")) a->ignore_index = ctx.node.AttrInt("ignore_index", 0);
  const Shape& xs = a->x->shape();
  const Shape& ts = a->target->shape();
  if (xs.size() < 2) return ctx.Error("input must be [N, C, d1...], got " + ShapeToString(xs));
  if (a->x->dtype() != DataType::kFloat32 && a->x->dtype() != DataType::kFloat64 &&
      !IsHalf(a->x->dtype()))
    return ctx.Unsupported("input of dtype " + DataTypeName(a->x->dtype()));
  if (a->target->dtype() != DataType::kInt32 && a->target->dtype() != DataType::kInt64)
    return ctx.Error("target must be int32 or int64, got " + DataTypeName(a->target->dtype()));
  bool match = ts.size() + 1 == xs.size() && ts[0] == xs[0];
  for (size_t i = 1; match && i < ts.size(); ++i) match = ts[i] == xs[i + 1];
  if (!match)
    return ctx.Error("target " + ShapeToString(ts) + " does not match input " + ShapeToString(xs) +
                     " (it must be the input's shape without dim 1)");
  a->n = xs[0];
  a->c = xs[1];
  for (size_t i = 2; i < xs.size(); ++i) a->d *= xs[i];
  if (a->weight) {
    if (a->weight->dtype() != a->x->dtype())
      return ctx.Error("weight must have the input's dtype " + DataTypeName(a->x->dtype()));
    if (a->weight->rank() != 1 || a->weight->dim(0) != a->c)
      return ctx.Error("weight must be [" + std::to_string(a->c) + "], got " +
                       ShapeToString(a->weight->shape()));
  }
  return Status::Ok();
}

// Writes output 0 from the log-probabilities `logp` ([N, C, D], contiguous).
template <typename T>
Status GatherLoss(KernelContext& ctx, const LossArgs& a, const T* logp) {
  const T* w = a.weight ? a.weight->data<T>() : nullptr;
  const int64_t samples = a.n * a.d;
  Tensor& out = a.reduction == Reduction::kNone ? ctx.Output(0, a.x->dtype(), a.target->shape())
                                                : ctx.Output(0, a.x->dtype(), Shape{});
  T* per_sample = a.reduction == Reduction::kNone ? out.data<T>() : nullptr;
  const bool i32 = a.target->dtype() == DataType::kInt32;
  const int32_t* t32 = i32 ? a.target->data<int32_t>() : nullptr;
  const int64_t* t64 = i32 ? nullptr : a.target->data<int64_t>();
  // Double sums: a mean over many samples in float drifts.
  double loss_sum = 0, weight_sum = 0;
  for (int64_t s = 0; s < samples; ++s) {
    const int64_t t = i32 ? t32[s] : t64[s];
    double loss = 0, weight = 0;
    if (!(a.ignore_index && t == *a.ignore_index)) {
      if (t < 0 || t >= a.c)
        return ctx.Error("target " + std::to_string(t) + " at sample " + std::to_string(s) +
                         " is outside [0, " + std::to_string(a.c) + ")" +
                         (a.ignore_index ? " and is not ignore_index" : ""));
      const int64_t nn = s / a.d, dd = s % a.d;
      weight = w ? static_cast<double>(w[t]) : 1.0;
      loss = -static_cast<double>(logp[(nn * a.c + t) * a.d + dd]) * weight;
    }
    if (per_sample) per_sample[s] = static_cast<T>(loss);
    loss_sum += loss;
    weight_sum += weight;
  }
  if (a.reduction == Reduction::kSum) out.data<T>()[0] = static_cast<T>(loss_sum);
  if (a.reduction == Reduction::kMean) out.data<T>()[0] = static_cast<T>(loss_sum / weight_sum);
  return Status::Ok();
}

// Log-softmax of x ([N, C, D]) along C into y.
template <typename T>
void LogSoftmaxAlongC(const T* x, T* y, int64_t n, int64_t c, int64_t d, int threads) {
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && n > 1 && n * c * d >= (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    const T* xb = x + i * c * d;
    T* yb = y + i * c * d;
    std::vector<double> mx(static_cast<size_t>(d)), sum(static_cast<size_t>(d), 0.0);
    for (int64_t k = 0; k < d; ++k) mx[k] = c > 0 ? static_cast<double>(xb[k]) : 0.0;
    for (int64_t j = 1; j < c; ++j)
      for (int64_t k = 0; k < d; ++k) mx[k] = std::max(mx[k], static_cast<double>(xb[j * d + k]));
    for (int64_t j = 0; j < c; ++j)
      for (int64_t k = 0; k < d; ++k)
        sum[k] += std::exp(static_cast<double>(xb[j * d + k]) - mx[k]);
    for (int64_t k = 0; k < d; ++k) mx[k] += std::log(sum[k]);  // now the shift
    for (int64_t j = 0; j < c; ++j)
      for (int64_t k = 0; k < d; ++k)
        yb[j * d + k] = static_cast<T>(static_cast<double>(xb[j * d + k]) - mx[k]);
  }
}

}  // namespace

Status NegativeLogLikelihoodLoss(KernelContext& ctx) {
  LossArgs a;
  SN_RETURN_IF_ERROR(CheckArgs(ctx, &a));
  if (IsHalf(a.x->dtype())) return RunWidened(ctx, NegativeLogLikelihoodLoss);
  return DispatchFloat(a.x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return GatherLoss<T>(ctx, a, a.x->data<T>());
  });
}

Status SoftmaxCrossEntropyLoss(KernelContext& ctx) {
  LossArgs a;
  SN_RETURN_IF_ERROR(CheckArgs(ctx, &a));
  if (IsHalf(a.x->dtype())) return RunWidened(ctx, SoftmaxCrossEntropyLoss);
  return DispatchFloat(a.x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The log-probabilities are output 1 when the graph wants them, a scratch tensor otherwise.
    Tensor scratch;
    Tensor* logp = &scratch;
    if (ctx.output_wanted(1))
      logp = &ctx.Output(1, a.x->dtype(), a.x->shape());
    else
      scratch = Tensor(a.x->dtype(), a.x->shape(), ctx.allocator());
    LogSoftmaxAlongC(a.x->data<T>(), logp->data<T>(), a.n, a.c, a.d, ctx.num_threads);
    return GatherLoss<T>(ctx, a, logp->data<T>());
  });
}

namespace {

// Output 0: the target's shape with reduction "none" (the input's without dim 1 when the
// target's is unknown), a scalar otherwise.
std::optional<Dims> LossShape(InferContext& ctx) {
  const auto reduction = ParseReduction(ctx.node);
  if (!reduction) return std::nullopt;
  if (*reduction != Reduction::kNone) return Dims{};
  if (ctx.in(1).has_rank()) return ctx.in(1).dims();
  if (ctx.in(0).has_rank() && ctx.in(0).dims().size() >= 2) {
    Dims d = ctx.in(0).dims();
    d.erase(d.begin() + 1);
    return d;
  }
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"NegativeLogLikelihoodLoss", NegativeLogLikelihoodLoss, LossShape},
    {"SoftmaxCrossEntropyLoss", SoftmaxCrossEntropyLoss, LossShape},
};

}  // namespace

std::span<const OpDef> LossOps() { return kOps; }

}  // namespace supernova::ops
