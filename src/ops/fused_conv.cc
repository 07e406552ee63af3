// FusedConv (com.supernova, version 1): Y = activation(Conv(X, W, B) + Z).
//
// Made by the graph optimizer (src/optimizer/fuse_conv_*.cc) from a Conv followed by an Add of
// a same-shaped residual and/or an activation. Inputs X, W, B (optional), Z (optional, exactly
// Y's shape: the optimizer never fuses a broadcasting Add). Attributes: Conv's own, plus
// `activation` (an activation's name as ops/activation_kind.h spells it, "" for none) and
// `activation_params` (LeakyRelu {alpha}, Clip {min, max}, HardSigmoid {alpha, beta}).
//
// The convolution is whatever kernel the registry holds for Conv (it reads only X, W, B and the
// Conv attributes, so it cannot tell the nodes apart); the residual add and the activation then
// run in place over Y while it is still in cache, which saves the separate passes over memory
// and the intermediate tensors of the unfused graph. The activation math is the element-wise
// kernels' own (activation.h), so fusing never changes results.
#include <limits>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/activation_kind.h"
#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// y[i] = f(y[i] + z[i]) (or f(y[i]) without z), in place.
template <typename T, typename F>
void Epilogue(T* y, const T* z, int64_t n, int threads, F f) {
  ParallelBlocks(n, threads, [&](int64_t b, int64_t e) {
    if (z) {
      for (int64_t i = b; i < e; ++i) y[i] = f(y[i] + z[i]);
    } else {
      for (int64_t i = b; i < e; ++i) y[i] = f(y[i]);
    }
  });
}

template <typename T>
void ApplyEpilogue(KernelContext& ctx, Tensor& yt, const Tensor* zt, const Activation& a) {
  T* y = yt.data<T>();
  const T* z = zt ? zt->data<T>() : nullptr;
  const int64_t n = yt.numel();
  const int threads = ctx.num_threads;
  switch (a.kind) {
    case ActivationKind::kNone:
      if (z) Epilogue(y, z, n, threads, [](T v) { return v; });
      break;
    case ActivationKind::kRelu:
      Epilogue(y, z, n, threads, [](T v) { return act::Relu(v); });
      break;
    case ActivationKind::kLeakyRelu: {
      const float alpha = a.param(0, 0.01f);
      Epilogue(y, z, n, threads, [alpha](T v) { return act::LeakyRelu(v, alpha); });
      break;
    }
    case ActivationKind::kClip: {
      // Absent bounds are infinite, so they leave every value (NaN included) alone.
      const T lo = static_cast<T>(a.param(0, -std::numeric_limits<float>::infinity()));
      const T hi = static_cast<T>(a.param(1, std::numeric_limits<float>::infinity()));
      Epilogue(y, z, n, threads, [lo, hi](T v) { return act::Clip(v, lo, hi); });
      break;
    }
    case ActivationKind::kSigmoid:
      Epilogue(y, z, n, threads, [](T v) { return act::Sigmoid(v); });
      break;
    case ActivationKind::kHardSigmoid: {
      const float alpha = a.param(0, 0.2f), beta = a.param(1, 0.5f);
      Epilogue(y, z, n, threads, [alpha, beta](T v) { return act::HardSigmoid(v, alpha, beta); });
      break;
    }
    case ActivationKind::kHardSwish:
      Epilogue(y, z, n, threads, [](T v) { return act::HardSwish(v); });
      break;
    case ActivationKind::kTanh:
      Epilogue(y, z, n, threads, [](T v) { return act::Tanh(v); });
      break;
  }
}

}  // namespace

Status FusedConv(KernelContext& ctx) {
  const OpDef* conv = FindOp("", "Conv");
  if (!conv) return ctx.Unsupported("no Conv kernel registered");
  SN_RETURN_IF_ERROR(conv->kernel(ctx));
  Tensor& y = ctx.outputs()[0];
  const Tensor* z = ctx.input(3);
  if (z && (z->dtype() != y.dtype() || z->shape() != y.shape()))
    return ctx.Error("Z " + DataTypeName(z->dtype()) + ShapeToString(z->shape()) +
                     " must match Y " + DataTypeName(y.dtype()) + ShapeToString(y.shape()));
  const std::optional<Activation> activation = FusedActivation(ctx.node);
  if (!activation)
    return ctx.Unsupported("unknown activation '" + ctx.node.AttrString("activation", "") + "'");
  return DispatchFloat(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ApplyEpilogue<T>(ctx, y, z, *activation);
    return Status::Ok();
  });
}

namespace {
// A Conv with an element-wise epilogue: Conv's output shape.
std::optional<Dims> FusedConvShape(InferContext& ctx) { return WindowShape(ctx, true); }

constexpr OpDef kOps[] = {
    {"FusedConv", FusedConv, FusedConvShape, OpKind::kCompute, ActivationKind::kNone,
     "com.supernova"},
};

}  // namespace

std::span<const OpDef> FusedConvOps() { return kOps; }

}  // namespace supernova::ops
