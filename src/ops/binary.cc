// Broadcasting binary ops: arithmetic (Add, Sub, Mul, Div, Pow, Mod, PRelu), logical
// (And, Or, Xor), bitwise (BitShift, BitwiseAnd, BitwiseOr, BitwiseXor) and comparisons (Equal,
// Greater, Less, GreaterOrEqual, LessOrEqual).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/fast_math.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

// Integer arithmetic wraps like the hardware does instead of being undefined on overflow:
// computing in an unsigned type of at least int width keeps small types from promoting to int.
template <typename T>
using WrapT = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;

template <typename T>
T WrapAdd(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(WrapT<T>(x) + WrapT<T>(y));
  else
    return x + y;
}
template <typename T>
T WrapSub(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(WrapT<T>(x) - WrapT<T>(y));
  else
    return x - y;
}
template <typename T>
T WrapMul(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(WrapT<T>(x) * WrapT<T>(y));
  else
    return x * y;
}

Status NeedInputs(const KernelContext& ctx, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!ctx.input(i)) return ctx.Error("missing input " + std::to_string(i));
  return Status::Ok();
}

Status NeedSameType(const KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedInputs(ctx, 2));
  if (ctx.input(0)->dtype() != ctx.input(1)->dtype())
    return ctx.Error("inputs have different dtypes " + DataTypeName(ctx.input(0)->dtype()) +
                     " and " + DataTypeName(ctx.input(1)->dtype()));
  return Status::Ok();
}

// Numeric dtypes plus bool.
template <typename F>
Status DispatchNumericOrBool(DataType dtype, F&& f) {
  if (dtype == DataType::kBool) return f(TypeTag<bool>{});
  return DispatchNumeric(dtype, std::forward<F>(f));
}

// out = op(a, b) with numpy broadcasting; output dtype TO.
template <typename TA, typename TB, typename TO, typename Op>
Status Binary(KernelContext& ctx, Op op) {
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  auto shape = BroadcastShapes({a.shape(), b.shape()});
  if (!shape.ok()) return ctx.Error(shape.status().message());
  Tensor& out = ctx.Output(0, DataTypeOf<TO>(), *shape);
  const BroadcastPlan plan = MakeBroadcastPlan(*shape, {a.shape(), b.shape()});
  BinaryBroadcastLoop(plan, a.data<TA>(), b.data<TB>(), out.data<TO>(), ctx.num_threads, op);
  return Status::Ok();
}

// Same-typed arithmetic over the numeric dtypes; half inputs run widened to float32.
// `make_op` is called with a TypeTag and returns the element function.
template <typename MakeOp>
Status Arithmetic(KernelContext& ctx, KernelFn self, MakeOp make_op) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  if (AnyHalfInput(ctx)) return RunWidened(ctx, self);
  Status s = DispatchNumeric(ctx.input(0)->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Binary<T, T, T>(ctx, make_op(tag));
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

// Integer division and modulo trap on a zero divisor; report it instead of crashing.
template <typename T>
bool HasZero(const Tensor& t) {
  const T* p = t.data<T>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (p[i] == T(0)) return true;
  return false;
}

template <typename T>
Status CheckDivisor(KernelContext& ctx) {
  if constexpr (std::is_integral_v<T>) {
    if (HasZero<T>(*ctx.input(1))) return ctx.Error("integer division by zero");
  }
  return Status::Ok();
}

template <typename T>
T IntPow(T base, int64_t e) {
  if (e < 0) {
    // Integer results of negative powers: only |base| == 1 survives truncation.
    if (base == T(1)) return T(1);
    if constexpr (std::is_signed_v<T>) {
      if (base == T(-1)) return (e % 2 == 0) ? T(1) : T(-1);
    }
    return T(0);
  }
  WrapT<T> result = 1, b = static_cast<WrapT<T>>(base);
  while (e > 0) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<T>(result);
}

template <typename TB>
Status PowWithBase(KernelContext& ctx) {
  const Tensor& exponent = *ctx.input(1);
  // x^2, x^0.5 and x^1 with a constant exponent are common in normalisation layers.
  if constexpr (std::is_floating_point_v<TB>) {
    if (exponent.numel() == 1 && BroadcastsTo(exponent.shape(), ctx.input(0)->shape())) {
      const double e = exponent.GetAsDouble(0);
      if (e == 2.0) return Binary<TB, TB, TB>(ctx, [](TB x, TB) { return x * x; });
    }
  }
  Status s = DispatchNumeric(exponent.dtype(), [&](auto tag) {
    using TE = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<TB> && std::is_same_v<TB, TE>) {
      return Binary<TB, TE, TB>(ctx, [](TB x, TE y) { return std::pow(x, y); });
    } else if constexpr (std::is_integral_v<TB> && std::is_integral_v<TE>) {
      return Binary<TB, TE, TB>(ctx, [](TB x, TE y) {
        if constexpr (std::is_unsigned_v<TE> && sizeof(TE) == 8) {
          // Exponents beyond int64 only matter for |x| <= 1, where the parity rule suffices.
          if (y > static_cast<TE>(INT64_MAX)) return IntPow<TB>(x, y % 2 ? 1 : 2);
        }
        return IntPow<TB>(x, static_cast<int64_t>(y));
      });
    } else {
      return Binary<TB, TE, TB>(ctx, [](TB x, TE y) {
        const double r = std::pow(static_cast<double>(x), static_cast<double>(y));
        if constexpr (std::is_integral_v<TB>) {
          // Saturate instead of the undefined out-of-range float-to-int conversion.
          if (!(r == r)) return TB(0);
          if (r >= static_cast<double>(std::numeric_limits<TB>::max()))
            return std::numeric_limits<TB>::max();
          if (r <= static_cast<double>(std::numeric_limits<TB>::lowest()))
            return std::numeric_limits<TB>::lowest();
        }
        return static_cast<TB>(r);
      });
    }
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

template <typename MakeOp>
Status Comparison(KernelContext& ctx, KernelFn self, bool allow_bool, MakeOp make_op) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  if (AnyHalfInput(ctx)) return RunWidened(ctx, self);
  const DataType dt = ctx.input(0)->dtype();
  if (dt == DataType::kBool && !allow_bool) return ctx.Unsupported("bool inputs are not supported");
  Status s = DispatchNumericOrBool(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Binary<T, T, bool>(ctx, make_op(tag));
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

template <typename Op>
Status Logical(KernelContext& ctx, Op op) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  if (ctx.input(0)->dtype() != DataType::kBool)
    return ctx.Unsupported("expects bool inputs, got " + DataTypeName(ctx.input(0)->dtype()));
  return Binary<bool, bool, bool>(ctx, op);
}

}  // namespace

Status Add(KernelContext& ctx) {
  return Arithmetic(ctx, Add, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return WrapAdd(x, y); };
  });
}

Status Sub(KernelContext& ctx) {
  return Arithmetic(ctx, Sub, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return WrapSub(x, y); };
  });
}

Status Mul(KernelContext& ctx) {
  return Arithmetic(ctx, Mul, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return WrapMul(x, y); };
  });
}

Status Div(KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  if (!AnyHalfInput(ctx)) {
    Status s = DispatchNumeric(ctx.input(0)->dtype(), [&](auto tag) {
      return CheckDivisor<typename decltype(tag)::type>(ctx);
    });
    if (!s.ok()) return s.WithContext(ctx.node.Label());
  }
  return Arithmetic(ctx, Div, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) {
      if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        // INT_MIN / -1 traps; the wrapped result is -x.
        if (y == T(-1)) return static_cast<T>(WrapT<T>(0) - WrapT<T>(x));
      }
      return static_cast<T>(x / y);
    };
  });
}

Status Mod(KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  const bool fmod = ctx.node.AttrInt("fmod", 0) != 0;
  const DataType dt = ctx.input(0)->dtype();
  const bool is_float = dt == DataType::kFloat32 || dt == DataType::kFloat64 || IsHalf(dt);
  if (is_float && !fmod) return ctx.Error("fmod must be 1 for floating-point inputs");
  if (AnyHalfInput(ctx)) return RunWidened(ctx, Mod);
  Status s = DispatchNumeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    SN_RETURN_IF_ERROR(CheckDivisor<T>(ctx));
    if constexpr (std::is_floating_point_v<T>) {
      return Binary<T, T, T>(ctx, [](T x, T y) { return std::fmod(x, y); });
    } else if constexpr (std::is_unsigned_v<T>) {
      return Binary<T, T, T>(ctx, [](T x, T y) { return static_cast<T>(x % y); });
    } else if (fmod) {
      // Truncated remainder takes the dividend's sign; x % -1 is 0 (and traps for INT_MIN).
      return Binary<T, T, T>(ctx,
                             [](T x, T y) { return y == T(-1) ? T(0) : static_cast<T>(x % y); });
    } else {
      // Python-style remainder takes the divisor's sign.
      return Binary<T, T, T>(ctx, [](T x, T y) {
        if (y == T(-1)) return T(0);
        T r = static_cast<T>(x % y);
        if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
        return r;
      });
    }
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

Status Pow(KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedInputs(ctx, 2));
  if (AnyHalfInput(ctx)) return RunWidened(ctx, Pow);
  switch (ctx.input(0)->dtype()) {
    case DataType::kFloat32:
      return PowWithBase<float>(ctx);
    case DataType::kFloat64:
      return PowWithBase<double>(ctx);
    case DataType::kInt32:
      return PowWithBase<int32_t>(ctx);
    case DataType::kInt64:
      return PowWithBase<int64_t>(ctx);
    default:
      return ctx.Unsupported("base dtype " + DataTypeName(ctx.input(0)->dtype()) +
                             " not supported");
  }
}

Status PRelu(KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  const Tensor& input = *ctx.input(0);
  const Tensor& slopes = *ctx.input(1);
  // Before opset 7 the slope was per channel (axis 1), as PyTorch exported it: [C] against
  // [N,C,...]. Run those as the [C,1,...,1] that later opsets would write.
  if (ctx.opset < 7 && slopes.shape().size() == 1 && input.shape().size() >= 2 &&
      slopes.shape()[0] == input.shape()[1] && slopes.shape()[0] != 1) {
    Shape per_channel(input.shape().size() - 1, 1);
    per_channel[0] = slopes.shape()[0];
    SN_ASSIGN_OR_RETURN(const Tensor reshaped, slopes.Reshaped(per_channel));
    KernelContext modern(ctx.node, 7, {&input, &reshaped}, ctx.allocator(), ctx.num_threads);
    SN_RETURN_IF_ERROR(PRelu(modern));
    ctx.SetOutput(0, std::move(modern.outputs()[0]));
    return Status::Ok();
  }
  if (!BroadcastsTo(ctx.input(1)->shape(), ctx.input(0)->shape()))
    return ctx.Error("slope shape " + ShapeToString(ctx.input(1)->shape()) +
                     " does not broadcast to input shape " + ShapeToString(ctx.input(0)->shape()));
  return Arithmetic(ctx, PRelu, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T slope) { return Select(x < T(0), WrapMul(x, slope), x); };
  });
}

Status BitShift(KernelContext& ctx) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  const std::string dir = ctx.node.AttrString("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    return ctx.Error("direction must be LEFT or RIGHT, got '" + dir + "'");
  const bool left = dir == "LEFT";
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Shifting by the bit width or more is undefined in C++; every bit is shifted out.
    constexpr T kBits = static_cast<T>(sizeof(T) * 8);
    if (left) return Binary<T, T, T>(ctx, [](T x, T y) { return y >= kBits ? T(0) : T(x << y); });
    return Binary<T, T, T>(ctx, [](T x, T y) { return y >= kBits ? T(0) : T(x >> y); });
  };
  switch (ctx.input(0)->dtype()) {
    case DataType::kUint8:
      return run(TypeTag<uint8_t>{});
    case DataType::kUint16:
      return run(TypeTag<uint16_t>{});
    case DataType::kUint32:
      return run(TypeTag<uint32_t>{});
    case DataType::kUint64:
      return run(TypeTag<uint64_t>{});
    default:
      return ctx.Unsupported("dtype " + DataTypeName(ctx.input(0)->dtype()) +
                             " not supported (unsigned integers only)");
  }
}

// BitwiseAnd, BitwiseOr, BitwiseXor (opset 18) over the integer dtypes.
template <typename F>
Status Bitwise(KernelContext& ctx, F f) {
  SN_RETURN_IF_ERROR(NeedSameType(ctx));
  const DataType dt = ctx.input(0)->dtype();
  return DispatchNumeric(dt, [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      return Binary<T, T, T>(ctx, [f](T x, T y) { return static_cast<T>(f(x, y)); });
    } else {
      return ctx.Unsupported("dtype " + DataTypeName(dt) + " not supported (integers only)");
    }
  });
}

Status BitwiseAnd(KernelContext& ctx) {
  return Bitwise(ctx, [](auto x, auto y) { return x & y; });
}
Status BitwiseOr(KernelContext& ctx) {
  return Bitwise(ctx, [](auto x, auto y) { return x | y; });
}
Status BitwiseXor(KernelContext& ctx) {
  return Bitwise(ctx, [](auto x, auto y) { return x ^ y; });
}

Status And(KernelContext& ctx) {
  return Logical(ctx, [](bool x, bool y) { return x && y; });
}
Status Or(KernelContext& ctx) {
  return Logical(ctx, [](bool x, bool y) { return x || y; });
}
Status Xor(KernelContext& ctx) {
  return Logical(ctx, [](bool x, bool y) { return x != y; });
}

Status Equal(KernelContext& ctx) {
  return Comparison(ctx, Equal, true, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return x == y; };
  });
}
Status Greater(KernelContext& ctx) {
  return Comparison(ctx, Greater, false, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return x > y; };
  });
}
Status Less(KernelContext& ctx) {
  return Comparison(ctx, Less, false, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return x < y; };
  });
}
Status GreaterOrEqual(KernelContext& ctx) {
  return Comparison(ctx, GreaterOrEqual, false, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return x >= y; };
  });
}
Status LessOrEqual(KernelContext& ctx) {
  return Comparison(ctx, LessOrEqual, false, [](auto tag) {
    using T = typename decltype(tag)::type;
    return [](T x, T y) { return x <= y; };
  });
}

namespace {
constexpr OpDef kOps[] = {
    {"Add", Add, BroadcastShape},
    {"And", And, BroadcastToBool},
    {"BitShift", BitShift, BroadcastShape},
    {"BitwiseAnd", BitwiseAnd, BroadcastShape},
    {"BitwiseOr", BitwiseOr, BroadcastShape},
    {"BitwiseXor", BitwiseXor, BroadcastShape},
    {"Div", Div, BroadcastShape},
    {"Equal", Equal, BroadcastToBool},
    {"Greater", Greater, BroadcastToBool},
    {"GreaterOrEqual", GreaterOrEqual, BroadcastToBool},
    {"Less", Less, BroadcastToBool},
    {"LessOrEqual", LessOrEqual, BroadcastToBool},
    {"Mod", Mod, BroadcastShape},
    {"Mul", Mul, BroadcastShape},
    {"Or", Or, BroadcastToBool},
    {"PRelu", PRelu, SameShape},
    {"Pow", Pow, BroadcastShape},
    {"Sub", Sub, BroadcastShape},
    {"Xor", Xor, BroadcastToBool},
};

}  // namespace

std::span<const OpDef> BinaryOps() { return kOps; }

}  // namespace supernova::ops
