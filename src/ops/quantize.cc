// QuantizeLinear and DequantizeLinear (opsets 10-21) and DynamicQuantizeLinear (opset 11).
//
// A scale and its zero point are one value (per tensor), one per slice along `axis` (a 1-D
// tensor, from opset 13), or, from opset 21, one per block of `block_size` elements along
// `axis` (a tensor of x's rank whose axis is ceil(dim / block_size) long, the other dims x's).
// x is viewed as [outer, len, inner] around the axis, and element (o, a, i) reads the scale
// entry o * s_outer + (a / block) * s_axis + i * s_inner, which covers all three.
//
// The arithmetic follows the ONNX reference: the quotient x / scale is taken in x's precision
// (float for float inputs, rounded back to float16/bfloat16 when x and the scale are both that
// type, double for int32 inputs), rounded half to even, then the zero point is added and the
// result saturated. Float8 and 4-bit types have no dtype in this runtime.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/quant.h"

namespace supernova::ops {
namespace {

struct Layout {
  int64_t outer = 1, len = 1, inner = 1;
  int64_t block = 1, s_outer = 0, s_axis = 0, s_inner = 0;
  int64_t Index(int64_t o, int64_t a, int64_t i) const {
    return o * s_outer + (a / block) * s_axis + i * s_inner;
  }
};

Status ResolveLayout(const KernelContext& ctx, const Shape& x, const Tensor& scale,
                     const Tensor* zp, Layout* l) {
  if (zp && zp->shape() != scale.shape())
    return ctx.Error("zero point " + ShapeToString(zp->shape()) + " and scale " +
                     ShapeToString(scale.shape()) + " differ in shape");
  const int64_t block = ctx.opset >= 21 ? ctx.node.AttrInt("block_size", 0) : 0;
  if (block < 0) return ctx.Error("block_size must not be negative, got " + std::to_string(block));
  if (block == 0 && scale.rank() <= 1 && scale.numel() == 1) {
    l->len = NumElements(x);
    return Status::Ok();
  }
  if (ctx.opset < 13)
    return ctx.Error("scale must be a scalar before opset 13, got " + ShapeToString(scale.shape()));
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank == 0)
    return ctx.Error("a scalar x takes a scalar scale, got " + ShapeToString(scale.shape()));
  int64_t axis = ctx.node.AttrInt("axis", 1);
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
  l->outer = NumElements(Shape(x.begin(), x.begin() + axis));
  l->len = x[static_cast<size_t>(axis)];
  l->inner = NumElements(Shape(x.begin() + axis + 1, x.end()));
  if (block == 0) {
    if (scale.rank() != 1 || scale.dim(0) != l->len)
      return ctx.Error("scale must be a scalar or have x's axis " + std::to_string(axis) + " (" +
                       std::to_string(l->len) + " elements), got " + ShapeToString(scale.shape()));
    l->s_axis = 1;
    return Status::Ok();
  }
  Shape want = x;
  want[static_cast<size_t>(axis)] = (l->len + block - 1) / block;
  if (scale.shape() != want)
    return ctx.Error("blocked quantization of x " + ShapeToString(x) + " along axis " +
                     std::to_string(axis) + " with block_size " + std::to_string(block) +
                     " needs a scale of shape " + ShapeToString(want) + ", got " +
                     ShapeToString(scale.shape()));
  l->block = block;
  l->s_inner = 1;
  l->s_axis = l->inner;
  l->s_outer = want[static_cast<size_t>(axis)] * l->inner;
  return Status::Ok();
}

// Every element of `t` as double: scales and zero points are small next to x.
std::vector<double> AllValues(const Tensor* t, size_t fallback_count, double fallback) {
  if (!t) return std::vector<double>(fallback_count, fallback);
  std::vector<double> v(static_cast<size_t>(t->numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = t->GetAsDouble(static_cast<int64_t>(i));
  return v;
}

// Calls f(k, j) for every element: k is its flat index in x, j its entry in the scale and
// zero point. Rows of the [outer, len, inner] view run on `threads`.
template <typename F>
void ForEach(const Layout& l, int threads, F&& f) {
  const int64_t rows = l.outer * l.len;
  const bool parallel = threads > 1 && rows * l.inner >= kParallelThreshold;
#pragma omp parallel for num_threads(threads) schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / l.len, a = r % l.len;
    for (int64_t i = 0; i < l.inner; ++i) f(r * l.inner + i, l.Index(o, a, i));
  }
}

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// x / scale in the precision the ONNX reference (numpy) uses for that pair of types.
template <typename X>
double Quotient(X x, float scale, bool same_half) {
  if constexpr (std::is_same_v<X, int32_t>) {
    return static_cast<double>(x) / static_cast<double>(scale);
  } else if constexpr (kIsHalf<X>) {
    const float q = x.ToFloat() / scale;
    return same_half ? X::FromFloat(q).ToFloat() : q;
  } else {
    return x / scale;
  }
}

template <typename F>
Status DispatchQuantInt(DataType t, F&& f) {
  switch (t) {
    case DataType::kUint8:
      return f(TypeTag<uint8_t>{});
    case DataType::kInt8:
      return f(TypeTag<int8_t>{});
    case DataType::kUint16:
      return f(TypeTag<uint16_t>{});
    case DataType::kInt16:
      return f(TypeTag<int16_t>{});
    case DataType::kInt32:
      return f(TypeTag<int32_t>{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(t) + " not supported");
  }
}

template <typename F>
Status DispatchFloatOrHalf(DataType t, F&& f) {
  switch (t) {
    case DataType::kFloat32:
      return f(TypeTag<float>{});
    case DataType::kFloat16:
      return f(TypeTag<Float16>{});
    case DataType::kBFloat16:
      return f(TypeTag<BFloat16>{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(t) + " not supported");
  }
}

bool IsFloatScale(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

// The quantized type QuantizeLinear writes: the zero point's, else the output_dtype attribute
// (opset 21), else uint8. Both given must agree.
Status QuantizedType(const KernelContext& ctx, const Tensor* zp, DataType* out) {
  *out = zp ? zp->dtype() : DataType::kUint8;
  if (ctx.opset >= 21 && ctx.node.HasAttr("output_dtype")) {
    const int64_t v = ctx.node.AttrInt("output_dtype", 0);
    const DataType t = static_cast<DataType>(v);
    if (v != 0 && !IsQuantInt(t))
      return ctx.Unsupported("output_dtype " + std::to_string(v) +
                             " not supported (only uint8, int8, uint16 and int16; float8 and "
                             "4-bit types are not)");
    if (v != 0 && zp && t != zp->dtype())
      return ctx.Error("output_dtype " + DataTypeName(t) + " differs from the zero point's " +
                       DataTypeName(zp->dtype()));
    if (v != 0) *out = t;
  }
  if (!IsQuantInt(*out))
    return ctx.Unsupported("quantizing to " + DataTypeName(*out) +
                           " not supported (only uint8, int8, uint16 and int16; float8 and "
                           "4-bit types are not)");
  return Status::Ok();
}

}  // namespace

Status QuantizeLinear(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* zp = ctx.input(2);
  if (!x || !scale) return ctx.Error("QuantizeLinear needs inputs x and y_scale");
  DataType ytype;
  SN_RETURN_IF_ERROR(QuantizedType(ctx, zp, &ytype));
  if (!IsFloatScale(scale->dtype()))
    return ctx.Unsupported("y_scale of dtype " + DataTypeName(scale->dtype()) + " not supported");
  // `saturate` (opset 19) concerns float8 outputs only; integer outputs always saturate.
  Layout l;
  SN_RETURN_IF_ERROR(ResolveLayout(ctx, x->shape(), *scale, zp, &l));
  const std::vector<double> sv = AllValues(scale, 0, 0);
  const std::vector<float> s(sv.begin(), sv.end());
  const std::vector<double> z = AllValues(zp, s.size(), 0);
  const bool same_half = IsHalf(x->dtype()) && x->dtype() == scale->dtype();
  Tensor& y = ctx.Output(0, ytype, x->shape());
  Status st = DispatchQuantInt(ytype, [&](auto ytag) {
    using Y = typename decltype(ytag)::type;
    auto run = [&](auto xtag) {
      using X = typename decltype(xtag)::type;
      const X* px = x->data<X>();
      Y* py = y.data<Y>();
      ForEach(l, ctx.num_threads, [&](int64_t k, int64_t j) {
        const double q = Quotient(px[k], s[static_cast<size_t>(j)], same_half);
        py[k] = SaturateTo<Y>(RoundHalfEven(q) + z[static_cast<size_t>(j)]);
      });
      return Status::Ok();
    };
    if (x->dtype() == DataType::kInt32) return run(TypeTag<int32_t>{});
    return DispatchFloatOrHalf(x->dtype(), run);
  });
  return st.ok() ? st : ctx.Unsupported("x: " + st.message());
}

Status DequantizeLinear(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* zp = ctx.input(2);
  if (!x || !scale) return ctx.Error("DequantizeLinear needs inputs x and x_scale");
  if (!IsQuantInt(x->dtype()) && x->dtype() != DataType::kInt32)
    return ctx.Unsupported("dequantizing " + DataTypeName(x->dtype()) +
                           " not supported (only uint8, int8, uint16, int16 and int32; float8 "
                           "and 4-bit types are not)");
  if (zp && zp->dtype() != x->dtype())
    return ctx.Error("x_zero_point of dtype " + DataTypeName(zp->dtype()) + " differs from x's " +
                     DataTypeName(x->dtype()));
  if (!IsFloatScale(scale->dtype()))
    return ctx.Unsupported("x_scale of dtype " + DataTypeName(scale->dtype()) + " not supported");
  Layout l;
  SN_RETURN_IF_ERROR(ResolveLayout(ctx, x->shape(), *scale, zp, &l));
  const std::vector<double> sv = AllValues(scale, 0, 0);
  const std::vector<float> s(sv.begin(), sv.end());
  std::vector<int64_t> z(s.size(), 0);
  if (zp)
    for (size_t i = 0; i < z.size(); ++i) z[i] = zp->GetAsInt64(static_cast<int64_t>(i));
  // The output has the scale's type; the product is taken in float, as in the reference.
  Tensor& y = ctx.Output(0, scale->dtype(), x->shape());
  Status st = DispatchQuantInt(x->dtype(), [&](auto xtag) {
    using X = typename decltype(xtag)::type;
    return DispatchFloatOrHalf(scale->dtype(), [&](auto ytag) {
      using Y = typename decltype(ytag)::type;
      const X* px = x->data<X>();
      Y* py = y.data<Y>();
      ForEach(l, ctx.num_threads, [&](int64_t k, int64_t j) {
        const float v = static_cast<float>(int64_t{px[k]} - z[static_cast<size_t>(j)]) *
                        s[static_cast<size_t>(j)];
        if constexpr (kIsHalf<Y>) {
          py[k] = Y::FromFloat(v);
        } else {
          py[k] = v;
        }
      });
      return Status::Ok();
    });
  });
  return st.ok() ? st : ctx.Unsupported(st.message());
}

// The spec's formula with uint8 (the only type it defines): the range [min(x, 0), max(x, 0)]
// spread over [0, 255]. An all-zero x has an empty range; its scale is 1 (so y and the zero
// point are 0), as the ONNX reference and ONNX Runtime define it, rather than a division by 0.
// NaN elements do not take part in the range.
Status DynamicQuantizeLinear(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("DynamicQuantizeLinear needs input x");
  if (x->dtype() != DataType::kFloat32)
    return ctx.Unsupported("x of dtype " + DataTypeName(x->dtype()) + " not supported (float32)");
  Tensor& y = ctx.Output(0, DataType::kUint8, x->shape());
  const DynamicQuant q =
      DynamicQuantize(x->data<float>(), x->numel(), y.data<uint8_t>(), ctx.num_threads);
  if (ctx.output_wanted(1)) ctx.Output(1, DataType::kFloat32, {}).data<float>()[0] = q.scale;
  if (ctx.output_wanted(2)) ctx.Output(2, DataType::kUint8, {}).data<uint8_t>()[0] = q.zero;
  return Status::Ok();
}

DynamicQuant DynamicQuantize(const float* x, int64_t n, uint8_t* y, int threads) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  DynamicQuant q;
  q.scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float initial_zp = 0.0f - lo / q.scale;
  q.zero = SaturateTo<uint8_t>(initial_zp);
  const float zp = q.zero;
  const float scale = q.scale;
  // RoundHalfEven and SaturateTo in a form the compiler vectorises (nearbyint is a call at the
  // baseline ISA): adding and taking away 1.5 * 2^23 rounds a float half to even, exactly for
  // |v| < 2^22, and x / scale lies within about +-255 because the range holds x and 0. NaN fails
  // both comparisons and lands on 0, as RoundSaturate sends it.
  constexpr float kRound = 12582912.f;
  ParallelBlocks(n, threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = (x[i] / scale + kRound) - kRound + zp;
      v = v >= 0.f ? v : 0.f;
      v = v <= 255.f ? v : 255.f;
      y[i] = static_cast<uint8_t>(static_cast<int32_t>(v));
    }
  });
  return q;
}

namespace {

std::optional<Dims> QuantizeShape(InferContext& ctx) {
  const InferInput& zp = ctx.in(2);
  ctx.dtype = DataType::kUint8;
  if (zp.type) {
    ctx.dtype = zp.type->dtype;
  } else if (ctx.opset >= 21 && ctx.node.AttrInt("output_dtype", 0) != 0) {
    const DataType t = static_cast<DataType>(ctx.node.AttrInt("output_dtype", 0));
    ctx.dtype = IsQuantInt(t) ? t : DataType::kUndefined;
  }
  return SameShape(ctx);
}

std::optional<Dims> DequantizeShape(InferContext& ctx) {
  const InferInput& scale = ctx.in(1);
  ctx.dtype = scale.type ? scale.type->dtype : DataType::kUndefined;
  return SameShape(ctx);
}

std::optional<Dims> DynamicQuantizeShape(InferContext& ctx) {
  ctx.dtype = DataType::kUint8;
  return SameShape(ctx);
}

constexpr OpDef kOps[] = {
    {"DequantizeLinear", DequantizeLinear, DequantizeShape},
    {"DynamicQuantizeLinear", DynamicQuantizeLinear, DynamicQuantizeShape},
    {"QuantizeLinear", QuantizeLinear, QuantizeShape},
};

}  // namespace

std::span<const OpDef> QuantizeOps() { return kOps; }

}  // namespace supernova::ops
