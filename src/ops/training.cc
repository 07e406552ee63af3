// The optimizers of ONNX's preview training domain (ai.onnx.preview.training): Adagrad,
// Momentum and Adam. Each takes a learning rate R and a step count T, then n tensors to update
// (X), their gradients (G) and their optimizer state, and returns the updated X and state: one
// training step, written as an inference op so that a graph can carry its own update rule.
// Formulas are the operator definitions' own, evaluated in double.
#include <cmath>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// Checks the layout R, T, then `groups` runs of n same-shaped tensors; sets *n.
Status CheckLayout(const KernelContext& ctx, size_t groups, size_t* n) {
  const size_t count = ctx.num_inputs();
  if (count < 2 + groups || (count - 2) % groups != 0)
    return ctx.Error("expects R, T and " + std::to_string(groups) + " runs of n tensors, got " +
                     std::to_string(count) + " inputs");
  *n = (count - 2) / groups;
  if (ctx.num_outputs() != (groups - 1) * *n)
    return ctx.Error("expects " + std::to_string((groups - 1) * *n) + " outputs");
  const Tensor* r = ctx.input(0);
  const Tensor* t = ctx.input(1);
  if (!r || r->numel() != 1) return ctx.Error("R must be a scalar");
  if (!t || t->numel() != 1 || t->dtype() != DataType::kInt64)
    return ctx.Error("T must be an int64 scalar");
  for (size_t i = 0; i < *n; ++i) {
    const Tensor* x = ctx.input(2 + i);
    if (!x) return ctx.Error("missing input " + std::to_string(2 + i));
    if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
      return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
    for (size_t g = 1; g < groups; ++g) {
      const Tensor* other = ctx.input(2 + g * *n + i);
      if (!other || other->shape() != x->shape() || other->dtype() != x->dtype())
        return ctx.Error("input " + std::to_string(2 + g * *n + i) + " must match X" +
                         std::to_string(i + 1) + "'s shape and dtype");
    }
  }
  return Status::Ok();
}

// Runs `step(k, x, g, state_in..., state_out...)` per element of each of the n tensors, where
// outputs are X_new then each state's new value.
template <size_t kStates, typename Step>
Status Update(KernelContext& ctx, Step step) {
  size_t n = 0;
  SN_RETURN_IF_ERROR(CheckLayout(ctx, 2 + kStates, &n));
  for (size_t i = 0; i < n; ++i) {
    const Tensor& x = *ctx.input(2 + i);
    const Tensor& g = *ctx.input(2 + n + i);
    const Tensor* state[kStates];
    Tensor* out[1 + kStates];
    for (size_t s = 0; s < kStates; ++s) state[s] = ctx.input(2 + (2 + s) * n + i);
    for (size_t s = 0; s <= kStates; ++s) out[s] = &ctx.Output(s * n + i, x.dtype(), x.shape());
    SN_RETURN_IF_ERROR(DispatchFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      double in_state[kStates == 0 ? 1 : kStates], out_vals[1 + kStates];
      for (int64_t k = 0; k < x.numel(); ++k) {
        for (size_t s = 0; s < kStates; ++s) in_state[s] = state[s]->template data<T>()[k];
        step(static_cast<double>(x.data<T>()[k]), static_cast<double>(g.data<T>()[k]), in_state,
             out_vals);
        for (size_t s = 0; s <= kStates; ++s)
          out[s]->template data<T>()[k] = static_cast<T>(out_vals[s]);
      }
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

double Scalar(const Tensor& t) { return t.GetAsDouble(0); }

}  // namespace

// r = R / (1 + T * decay); G' = norm * X + G; H' = H + G'^2; X' = X - r * G' / (sqrt(H') + eps)
Status Adagrad(KernelContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.input(0) || !ctx.input(1)) return ctx.Error("needs R and T");
  const double decay = ctx.node.AttrFloat("decay_factor", 0.0f);
  const double eps = ctx.node.AttrFloat("epsilon", 1e-6f);
  const double norm = ctx.node.AttrFloat("norm_coefficient", 0.0f);
  const double r = Scalar(*ctx.input(0)) / (1 + Scalar(*ctx.input(1)) * decay);
  return Update<1>(ctx, [&](double x, double g, const double* h, double* out) {
    const double gr = norm * x + g;
    out[1] = h[0] + gr * gr;
    out[0] = x - r * gr / (std::sqrt(out[1]) + eps);
  });
}

// G' = norm * X + G; V' = alpha * V + beta_t * G' (beta_t = 1 at T = 0, beta after);
// standard: X' = X - R * V'; nesterov: X' = X - R * (G' + alpha * V').
Status Momentum(KernelContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.input(0) || !ctx.input(1)) return ctx.Error("needs R and T");
  for (const char* required : {"alpha", "beta", "mode", "norm_coefficient"})
    if (!ctx.node.HasAttr(required))
      return ctx.Error(std::string("attribute '") + required + "' is required");
  const double alpha = ctx.node.AttrFloat("alpha", 0.0f);
  const double beta = ctx.node.AttrFloat("beta", 0.0f);
  const double norm = ctx.node.AttrFloat("norm_coefficient", 0.0f);
  const std::string mode = ctx.node.AttrString("mode", "standard");
  if (mode != "standard" && mode != "nesterov")
    return ctx.Error("mode must be standard or nesterov, got '" + mode + "'");
  const bool nesterov = mode == "nesterov";
  const double r = Scalar(*ctx.input(0));
  const double beta_t = Scalar(*ctx.input(1)) > 0 ? beta : 1.0;
  return Update<1>(ctx, [&](double x, double g, const double* v, double* out) {
    const double gr = norm * x + g;
    out[1] = alpha * v[0] + beta_t * gr;
    out[0] = nesterov ? x - r * (gr + alpha * out[1]) : x - r * out[1];
  });
}

// G' = norm * X + G; V' = alpha V + (1 - alpha) G'; H' = beta H + (1 - beta) G'^2;
// r = T > 0 ? R sqrt(1 - beta^T) / (1 - alpha^T) : R; X' = (1 - post) (X - r V' / (sqrt(H') + eps))
Status Adam(KernelContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.input(0) || !ctx.input(1)) return ctx.Error("needs R and T");
  const double alpha = ctx.node.AttrFloat("alpha", 0.9f);
  const double beta = ctx.node.AttrFloat("beta", 0.999f);
  const double eps = ctx.node.AttrFloat("epsilon", 1e-6f);
  const double norm = ctx.node.AttrFloat("norm_coefficient", 0.0f);
  const double post = ctx.node.AttrFloat("norm_coefficient_post", 0.0f);
  const double t = Scalar(*ctx.input(1));
  double r = Scalar(*ctx.input(0));
  if (t > 0) r *= std::sqrt(1 - std::pow(beta, t)) / (1 - std::pow(alpha, t));
  return Update<2>(ctx, [&](double x, double g, const double* state, double* out) {
    const double gr = norm * x + g;
    out[1] = alpha * state[0] + (1 - alpha) * gr;
    out[2] = beta * state[1] + (1 - beta) * gr * gr;
    out[0] = (1 - post) * (x - r * out[1] / (std::sqrt(out[2]) + eps));
  });
}

namespace {
// Output 0 is X1 updated: X1's shape and dtype (input 2).
std::optional<Dims> UpdatedShape(InferContext& ctx) {
  if (!ctx.in(2).has_rank()) return std::nullopt;
  ctx.dtype = ctx.in(2).type->dtype;
  return ctx.in(2).dims();
}

constexpr std::string_view kTraining = "ai.onnx.preview.training";
constexpr OpDef kOps[] = {
    {"Adagrad", Adagrad, UpdatedShape, OpKind::kCompute, ActivationKind::kNone, kTraining},
    {"Adam", Adam, UpdatedShape, OpKind::kCompute, ActivationKind::kNone, kTraining},
    {"Momentum", Momentum, UpdatedShape, OpKind::kCompute, ActivationKind::kNone, kTraining},
};
}  // namespace

std::span<const OpDef> TrainingOps() { return kOps; }

}  // namespace supernova::ops
