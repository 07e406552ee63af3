// Cast and CastLike between every numeric dtype, bool, float16, bfloat16 and string.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// Every dtype Cast handles.
template <typename F>
Status DispatchCastable(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kBool:
      return f(TypeTag<bool>{});
    case DataType::kFloat16:
      return f(TypeTag<Float16>{});
    case DataType::kBFloat16:
      return f(TypeTag<BFloat16>{});
    default:
      return DispatchNumeric(dtype, std::forward<F>(f));
  }
}

template <typename To, typename From>
To Convert(From v) {
  if constexpr (kIsHalf<From>) {
    return Convert<To>(v.ToFloat());
  } else if constexpr (kIsHalf<To>) {
    return To::FromFloat(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // Out-of-range float-to-int conversion is undefined in C++; saturate (NaN becomes 0).
    if (std::isnan(v)) return To(0);
    if (v >= static_cast<From>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    if (v <= static_cast<From>(std::numeric_limits<To>::lowest()))
      return std::numeric_limits<To>::lowest();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// A number as text: the shortest digits that read back as the same value (what NumPy prints
// and ONNX's test data hold, "0.9767611"), and NaN, INF, -INF as the spec spells them.
template <typename T>
std::string ToText(T v) {
  if constexpr (kIsHalf<T>) {
    return ToText(v.ToFloat());
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "1" : "0";
  } else {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
  }
}

// Text as a number: the whole string must be one (a leading '+' allowed); the spec's NaN and
// INF spellings are read in any case. Integers out of the target's range are refused.
template <typename T>
bool FromText(const std::string& s, T* out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+' && e - b > 1 && b[1] != '-') ++b;
  if constexpr (kIsHalf<T> || std::is_same_v<T, bool>) {
    float f;
    if (!FromText(s, &f)) return false;
    if constexpr (std::is_same_v<T, bool>)
      *out = f != 0.0f;
    else
      *out = T::FromFloat(f);
    return true;
  } else {
    const auto r = std::from_chars(b, e, *out);
    return r.ec == std::errc() && r.ptr == e;
  }
}

Status CastStrings(KernelContext& ctx, const Tensor& x, DataType to) {
  if (to == DataType::kString) {
    return DispatchCastable(x.dtype(), [&](auto from_tag) {
      using From = typename decltype(from_tag)::type;
      Tensor& out = ctx.Output(0, to, x.shape());
      const From* p = x.data<From>();
      std::string* o = out.data<std::string>();
      for (int64_t i = 0; i < x.numel(); ++i) o[i] = ToText(p[i]);
      return Status::Ok();
    });
  }
  return DispatchCastable(to, [&](auto to_tag) -> Status {
    using To = typename decltype(to_tag)::type;
    Tensor& out = ctx.Output(0, to, x.shape());
    const std::string* p = x.data<std::string>();
    To* o = out.data<To>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!FromText(p[i], &o[i]))
        return ctx.Error("element " + std::to_string(i) + " '" + p[i] + "' is not a " +
                         DataTypeName(to) + " number");
    return Status::Ok();
  });
}

Status CastTo(KernelContext& ctx, const Tensor& x, DataType to) {
  if (!IsKnownDataType(static_cast<int32_t>(to)) || to == DataType::kUndefined)
    return ctx.Error("unknown target dtype " + std::to_string(static_cast<int>(to)));
  if (x.dtype() == to) {
    ctx.SetOutput(0, x);
    return Status::Ok();
  }
  if (to == DataType::kString || x.dtype() == DataType::kString) {
    // Its own errors name the node already; the dispatch's (a dtype it lacks) do not.
    Status s = CastStrings(ctx, x, to);
    return s.ok() || s.code() != Status::Code::kUnimplemented ? s : ctx.Unsupported(s.message());
  }
  Status s = DispatchCastable(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return DispatchCastable(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      Tensor& out = ctx.Output(0, to, x.shape());
      const From* p = x.data<From>();
      To* o = out.data<To>();
      ParallelBlocks(x.numel(), ctx.num_threads, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) o[i] = Convert<To, From>(p[i]);
      });
      return Status::Ok();
    });
  });
  return s.ok() ? s : s.WithContext(ctx.node.Label());
}

}  // namespace

Status Cast(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (!ctx.node.HasAttr("to")) return ctx.Error("missing attribute 'to'");
  const int64_t to = ctx.node.AttrInt("to", 0);
  if (to < 0 || to > std::numeric_limits<int32_t>::max() ||
      !IsKnownDataType(static_cast<int32_t>(to)))
    return ctx.Error("unknown target dtype " + std::to_string(to));
  return CastTo(ctx, *x, static_cast<DataType>(to));
}

Status CastLike(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* like = ctx.input(1);
  if (!x || !like) return ctx.Error("expects input and target_type");
  return CastTo(ctx, *x, like->dtype());
}

namespace {
std::optional<Dims> CastShape(InferContext& ctx) {
  ctx.dtype = static_cast<DataType>(ctx.node.AttrInt("to", 0));
  return SameShape(ctx);
}

std::optional<Dims> CastLikeShape(InferContext& ctx) {
  ctx.dtype = ctx.in(1).type ? ctx.in(1).type->dtype : DataType::kUndefined;
  return SameShape(ctx);
}

constexpr OpDef kOps[] = {
    {.op_type = "Cast",
     .kernel = Cast,
     .infer = CastShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
    {.op_type = "CastLike",
     .kernel = CastLike,
     .infer = CastLikeShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
};

}  // namespace

std::span<const OpDef> CastOps() { return kOps; }

}  // namespace supernova::ops
