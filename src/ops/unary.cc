// Element-wise unary math and activations: one output element per input element, same shape.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/activation.h"
#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/fast_math.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// exp that vectorises for float (ExpF); double keeps libm.
inline float FastExp(float x) { return ExpF(x); }
inline double FastExp(double x) { return std::exp(x); }

template <typename TI, typename TO, typename F>
Status Map(KernelContext& ctx, const Tensor& x, F f) {
  Tensor& out = ctx.Output(0, DataTypeOf<TO>(), x.shape());
  const TI* p = x.data<TI>();
  TO* o = out.data<TO>();
  ParallelBlocks(x.numel(), ctx.num_threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = f(p[i]);
  });
  return Status::Ok();
}

// f is a generic lambda called with float or double.
template <typename F>
Status UnaryFloat(KernelContext& ctx, KernelFn self, F f) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, self);
  Status s = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Map<T, T>(ctx, *x, f);
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

// Like UnaryFloat, also over the integer dtypes.
template <typename F>
Status UnaryNumeric(KernelContext& ctx, KernelFn self, F f) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, self);
  Status s = DispatchNumeric(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Map<T, T>(ctx, *x, f);
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

// Float predicate producing bool (IsNaN, IsInf).
template <typename F>
Status FloatPredicate(KernelContext& ctx, KernelFn self, F f) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, self);
  Status s = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Map<T, bool>(ctx, *x, f);
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

template <typename T>
T ClipLimit(const Tensor* t, T fallback) {
  if (!t || t->numel() == 0) return fallback;
  return t->data<T>()[0];
}

}  // namespace

Status Relu(KernelContext& ctx) {
  return UnaryNumeric(ctx, Relu, [](auto x) { return act::Relu(x); });
}

Status LeakyRelu(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 0.01f);
  return UnaryFloat(ctx, LeakyRelu, [alpha](auto x) { return act::LeakyRelu(x, alpha); });
}

Status Sigmoid(KernelContext& ctx) {
  return UnaryFloat(ctx, Sigmoid, [](auto x) { return act::Sigmoid(x); });
}

Status Tanh(KernelContext& ctx) {
  return UnaryFloat(ctx, Tanh, [](auto x) { return act::Tanh(x); });
}

Status HardSigmoid(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 0.2f);
  const float beta = ctx.node.AttrFloat("beta", 0.5f);
  return UnaryFloat(ctx, HardSigmoid,
                    [alpha, beta](auto x) { return act::HardSigmoid(x, alpha, beta); });
}

Status HardSwish(KernelContext& ctx) {
  return UnaryFloat(ctx, HardSwish, [](auto x) { return act::HardSwish(x); });
}

Status Elu(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 1.0f);
  return UnaryFloat(ctx, Elu, [alpha](auto x) {
    using T = decltype(x);
    return Select(x < T(0), T(alpha) * (FastExp(x) - T(1)), x);
  });
}

Status Selu(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.node.AttrFloat("gamma", 1.05070102214813232421875f);
  return UnaryFloat(ctx, Selu, [alpha, gamma](auto x) {
    using T = decltype(x);
    return Select(x <= T(0), T(gamma) * (T(alpha) * FastExp(x) - T(alpha)), T(gamma) * x);
  });
}

Status Celu(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 1.0f);
  if (alpha == 0.0f) return ctx.Error("alpha must be non-zero");
  return UnaryFloat(ctx, Celu, [alpha](auto x) {
    using T = decltype(x);
    return MaxOf(x, T(0)) + MinOf(T(alpha) * (FastExp(x / T(alpha)) - T(1)), T(0));
  });
}

Status ThresholdedRelu(KernelContext& ctx) {
  const float alpha = ctx.node.AttrFloat("alpha", 1.0f);
  return UnaryFloat(ctx, ThresholdedRelu, [alpha](auto x) {
    using T = decltype(x);
    return Select(x > T(alpha), x, T(0));
  });
}

Status Softplus(KernelContext& ctx) {
  // log(1 + e^x) without overflowing e^x for large x.
  return UnaryFloat(ctx, Softplus, [](auto x) {
    using T = decltype(x);
    return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  });
}

Status BitwiseNot(KernelContext& ctx) {  // opset 18, integers only
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  return DispatchNumeric(x->dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      return Map<T, T>(ctx, *x, [](T v) { return static_cast<T>(~v); });
    } else {
      return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) +
                             " not supported (integers only)");
    }
  });
}

Status Mish(KernelContext& ctx) {  // opset 18: x * tanh(softplus(x))
  return UnaryFloat(ctx, Mish, [](auto x) {
    using T = decltype(x);
    const T softplus = x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    return x * std::tanh(softplus);
  });
}

Status Gelu(KernelContext& ctx) {  // opset 20: exact (erf) or the tanh approximation
  const std::string approximate = ctx.node.AttrString("approximate", "none");
  if (approximate == "tanh") {
    return UnaryFloat(ctx, Gelu, [](auto x) {
      using T = decltype(x);
      const T k = T(0.7978845608028654);  // sqrt(2 / pi)
      return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
    });
  }
  if (approximate != "none")
    return ctx.Error("approximate must be none or tanh, got '" + approximate + "'");
  return UnaryFloat(ctx, Gelu, [](auto x) {
    using T = decltype(x);
    return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
  });
}

Status Softsign(KernelContext& ctx) {
  return UnaryFloat(ctx, Softsign, [](auto x) {
    using T = decltype(x);
    return x / (T(1) + std::abs(x));
  });
}

Status Shrink(KernelContext& ctx) {
  const float bias = ctx.node.AttrFloat("bias", 0.0f);
  const float lambd = ctx.node.AttrFloat("lambd", 0.5f);
  return UnaryNumeric(ctx, Shrink, [bias, lambd](auto x) {
    using T = decltype(x);
    const double v = static_cast<double>(x);
    if (v < -lambd) return static_cast<T>(v + bias);
    if (v > lambd) return static_cast<T>(v - bias);
    return T(0);
  });
}

Status Erf(KernelContext& ctx) {
  return UnaryFloat(ctx, Erf, [](auto x) {
    if constexpr (std::is_same_v<decltype(x), float>)
      return ErfF(x);
    else
      return std::erf(x);
  });
}
Status Sqrt(KernelContext& ctx) {
  return UnaryFloat(ctx, Sqrt, [](auto x) { return std::sqrt(x); });
}
Status Exp(KernelContext& ctx) {
  return UnaryFloat(ctx, Exp, [](auto x) {
    if constexpr (std::is_same_v<decltype(x), float>)
      return ExpF(x);
    else
      return std::exp(x);
  });
}
Status Log(KernelContext& ctx) {
  return UnaryFloat(ctx, Log, [](auto x) { return std::log(x); });
}
Status Floor(KernelContext& ctx) {
  return UnaryFloat(ctx, Floor, [](auto x) { return std::floor(x); });
}
Status Ceil(KernelContext& ctx) {
  return UnaryFloat(ctx, Ceil, [](auto x) { return std::ceil(x); });
}
Status Round(KernelContext& ctx) {
  // Halves round to even, as ONNX specifies (the default floating-point rounding mode).
  return UnaryFloat(ctx, Round, [](auto x) { return std::nearbyint(x); });
}
Status Reciprocal(KernelContext& ctx) {
  return UnaryFloat(ctx, Reciprocal, [](auto x) {
    using T = decltype(x);
    return T(1) / x;
  });
}
Status Sin(KernelContext& ctx) {
  return UnaryFloat(ctx, Sin, [](auto x) { return std::sin(x); });
}
Status Cos(KernelContext& ctx) {
  return UnaryFloat(ctx, Cos, [](auto x) { return std::cos(x); });
}
Status Tan(KernelContext& ctx) {
  return UnaryFloat(ctx, Tan, [](auto x) { return std::tan(x); });
}
Status Asin(KernelContext& ctx) {
  return UnaryFloat(ctx, Asin, [](auto x) { return std::asin(x); });
}
Status Acos(KernelContext& ctx) {
  return UnaryFloat(ctx, Acos, [](auto x) { return std::acos(x); });
}
Status Atan(KernelContext& ctx) {
  return UnaryFloat(ctx, Atan, [](auto x) { return std::atan(x); });
}
Status Sinh(KernelContext& ctx) {
  return UnaryFloat(ctx, Sinh, [](auto x) { return std::sinh(x); });
}
Status Cosh(KernelContext& ctx) {
  return UnaryFloat(ctx, Cosh, [](auto x) { return std::cosh(x); });
}
Status Asinh(KernelContext& ctx) {
  return UnaryFloat(ctx, Asinh, [](auto x) { return std::asinh(x); });
}
Status Acosh(KernelContext& ctx) {
  return UnaryFloat(ctx, Acosh, [](auto x) { return std::acosh(x); });
}
Status Atanh(KernelContext& ctx) {
  return UnaryFloat(ctx, Atanh, [](auto x) { return std::atanh(x); });
}

Status Neg(KernelContext& ctx) {
  return UnaryNumeric(ctx, Neg, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_integral_v<T>) {
      // Wraps for the most negative value instead of overflowing.
      using U = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;
      return static_cast<T>(U(0) - static_cast<U>(x));
    } else {
      return -x;
    }
  });
}

Status Abs(KernelContext& ctx) {
  return UnaryNumeric(ctx, Abs, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      using U = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;
      return Select(x < T(0), static_cast<T>(U(0) - static_cast<U>(x)), x);
    } else {
      return std::abs(x);
    }
  });
}

Status Sign(KernelContext& ctx) {
  return UnaryNumeric(ctx, Sign, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    return Select(x > T(0), T(1), Select(x < T(0), static_cast<T>(-1), T(0)));
  });
}

Status Not(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (x->dtype() != DataType::kBool)
    return ctx.Unsupported("expects a bool input, got " + DataTypeName(x->dtype()));
  return Map<bool, bool>(ctx, *x, [](bool v) { return !v; });
}

Status IsNaN(KernelContext& ctx) {
  return FloatPredicate(ctx, IsNaN, [](auto x) { return std::isnan(x); });
}

Status IsInf(KernelContext& ctx) {
  const bool neg = ctx.node.AttrInt("detect_negative", 1) != 0;
  const bool pos = ctx.node.AttrInt("detect_positive", 1) != 0;
  return FloatPredicate(ctx, IsInf, [neg, pos](auto x) {
    using T = decltype(x);
    return std::isinf(x) && ((x > T(0)) ? pos : neg);
  });
}

// Clip's bounds are attributes before opset 11 and optional scalar inputs from 11.
Status Clip(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, Clip);
  for (size_t i = 1; i < 3; ++i) {
    const Tensor* b = ctx.input(i);
    if (!b) continue;
    if (b->dtype() != x->dtype())
      return ctx.Error("bound " + std::to_string(i) + " has dtype " + DataTypeName(b->dtype()) +
                       ", expected " + DataTypeName(x->dtype()));
    if (b->numel() != 1)
      return ctx.Error("bounds must be scalars, got shape " + ShapeToString(b->shape()));
  }
  Status s = DispatchNumeric(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    if (ctx.opset < 11) {
      if constexpr (std::is_floating_point_v<T>) {
        lo = static_cast<T>(ctx.node.AttrFloat("min", -std::numeric_limits<float>::max()));
        hi = static_cast<T>(ctx.node.AttrFloat("max", std::numeric_limits<float>::max()));
        if (!ctx.node.HasAttr("min")) lo = std::numeric_limits<T>::lowest();
        if (!ctx.node.HasAttr("max")) hi = std::numeric_limits<T>::max();
      }
    } else {
      lo = ClipLimit<T>(ctx.input(1), lo);
      hi = ClipLimit<T>(ctx.input(2), hi);
    }
    return Map<T, T>(ctx, *x, [lo, hi](T v) { return act::Clip(v, lo, hi); });
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

namespace {
std::optional<Dims> NotShape(InferContext& ctx) {
  ctx.dtype = DataType::kBool;
  return SameShape(ctx);
}

constexpr OpDef kOps[] = {
    {"Abs", Abs, SameShape},
    {"Acos", Acos, SameShape},
    {"Acosh", Acosh, SameShape},
    {"Asin", Asin, SameShape},
    {"Asinh", Asinh, SameShape},
    {"Atan", Atan, SameShape},
    {"Atanh", Atanh, SameShape},
    {"BitwiseNot", BitwiseNot, SameShape},
    {"Ceil", Ceil, SameShape},
    {"Celu", Celu, SameShape},
    {"Clip", Clip, SameShape, OpKind::kCompute, ActivationKind::kClip},
    {"Cos", Cos, SameShape},
    {"Cosh", Cosh, SameShape},
    {"Elu", Elu, SameShape},
    {"Erf", Erf, SameShape},
    {"Exp", Exp, SameShape},
    {"Floor", Floor, SameShape},
    {"Gelu", Gelu, SameShape},
    {"HardSigmoid", HardSigmoid, SameShape, OpKind::kCompute, ActivationKind::kHardSigmoid},
    {"HardSwish", HardSwish, SameShape, OpKind::kCompute, ActivationKind::kHardSwish},
    {"IsInf", IsInf, NotShape},
    {"IsNaN", IsNaN, NotShape},
    {"LeakyRelu", LeakyRelu, SameShape, OpKind::kCompute, ActivationKind::kLeakyRelu},
    {"Log", Log, SameShape},
    {"Mish", Mish, SameShape},
    {"Neg", Neg, SameShape},
    {"Not", Not, NotShape},
    {"Reciprocal", Reciprocal, SameShape},
    {"Relu", Relu, SameShape, OpKind::kCompute, ActivationKind::kRelu},
    {"Round", Round, SameShape},
    {"Selu", Selu, SameShape},
    {"Shrink", Shrink, SameShape},
    {"Sigmoid", Sigmoid, SameShape, OpKind::kCompute, ActivationKind::kSigmoid},
    {"Sign", Sign, SameShape},
    {"Sin", Sin, SameShape},
    {"Sinh", Sinh, SameShape},
    {"Softplus", Softplus, SameShape},
    {"Softsign", Softsign, SameShape},
    {"Sqrt", Sqrt, SameShape},
    {"Tan", Tan, SameShape},
    {"Tanh", Tanh, SameShape, OpKind::kCompute, ActivationKind::kTanh},
    {"ThresholdedRelu", ThresholdedRelu, SameShape},
};

}  // namespace

std::span<const OpDef> UnaryOps() { return kOps; }

}  // namespace supernova::ops
