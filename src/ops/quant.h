// What the quantized ops share (quantize.cc, quant_matmul.cc, quant_conv.cc): the ranges of the
// integer types, ONNX's rounding (half to even) with saturation, reading scales and zero
// points that are either one value or one per channel, and the requantizing output stage.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/kernel.h"

namespace supernova::ops {

// The integer types QuantizeLinear writes and DequantizeLinear reads (besides int32).
inline bool IsQuantInt(DataType t) {
  return t == DataType::kUint8 || t == DataType::kInt8 || t == DataType::kUint16 ||
         t == DataType::kInt16;
}

// Rounds half to even and saturates to [lo, hi]. ONNX specifies round-half-to-even;
// std::nearbyint rounds in the current mode, which nothing in the runtime changes from its
// default, to-nearest-even. Clamping first is the same as clamping after, the bounds being
// integers, and keeps the conversion defined. NaN goes to `lo`, which is what the ONNX reference
// and ONNX Runtime produce on x86 (NaN converts to INT_MIN there, then saturates).
inline int64_t RoundSaturate(double v, int64_t lo, int64_t hi) {
  if (!(v >= static_cast<double>(lo))) return lo;
  if (v >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(std::nearbyint(v));
}

// Round half to even without saturating, for QuantizeLinear's round(x / scale) + zero_point:
// the zero point is added after rounding, which moves ties (round(2.5) + 1 is 3, where
// round(2.5 + 1) would be 4).
inline double RoundHalfEven(double v) { return std::nearbyint(v); }

template <typename T>
inline T SaturateTo(double v) {
  return static_cast<T>(
      RoundSaturate(v, std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max()));
}

// DynamicQuantizeLinear's parameters of `n` floats (uint8 over their range widened to hold 0,
// NaN ignored; an empty range gives scale 1) and the quantized values written to `y`: what
// its kernel and the fused dynamic-quantization products (DynamicQuantMatMul) compute alike.
struct DynamicQuant {
  float scale = 1;
  uint8_t zero = 0;
};
DynamicQuant DynamicQuantize(const float* x, int64_t n, uint8_t* y, int threads);

// A scale or zero point that is one value, or one per channel of `count` channels (a 1-D
// tensor; [1] counts as one value). Values are read as double; `what` names the input in errors.
inline Status PerChannel(const KernelContext& ctx, const Tensor* t, int64_t count, double fallback,
                         const char* what, std::vector<double>* out) {
  out->assign(static_cast<size_t>(count), fallback);
  if (!t) return Status::Ok();
  if (t->numel() == 1 && t->rank() <= 1) {
    out->assign(static_cast<size_t>(count), t->GetAsDouble(0));
    return Status::Ok();
  }
  if (t->rank() != 1 || t->dim(0) != count)
    return ctx.Error(std::string(what) + " must be a scalar or have " + std::to_string(count) +
                     " elements, got " + ShapeToString(t->shape()));
  for (int64_t i = 0; i < count; ++i) (*out)[static_cast<size_t>(i)] = t->GetAsDouble(i);
  return Status::Ok();
}

// The input must be absent or a single value; returns it (or `fallback`).
inline Status SingleValue(const KernelContext& ctx, const Tensor* t, double fallback,
                          const char* what, double* out) {
  *out = fallback;
  if (!t) return Status::Ok();
  if (t->numel() != 1 || t->rank() > 1)
    return ctx.Error(std::string(what) + " must be a scalar, got " + ShapeToString(t->shape()));
  *out = t->GetAsDouble(0);
  return Status::Ok();
}

// QuantizeLinear's rule applied to a real value `acc * multiplier`: round half to even, add
// the zero point, saturate.
template <typename T>
inline T Requantize(int32_t acc, double multiplier, double zero_point) {
  return SaturateTo<T>(RoundHalfEven(static_cast<double>(acc) * multiplier) + zero_point);
}

// Whether `dtype` is int8 or uint8, the only types the integer products take.
inline bool IsInt8Type(DataType t) { return t == DataType::kUint8 || t == DataType::kInt8; }

// A copy of an int8/uint8 tensor as int32 with the zero point of each element subtracted:
// zp_of(i) gives element i's zero point.
template <typename ZpOf>
inline std::vector<int32_t> Centered(const Tensor& t, ZpOf zp_of) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DataType::kUint8) {
    const uint8_t* p = t.data<uint8_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = int32_t{p[i]} - zp_of(i);
  } else {
    const int8_t* p = t.data<int8_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = int32_t{p[i]} - zp_of(i);
  }
  return out;
}

// Which entries of the input's and the weight's scales an output element uses.
struct ScaleIndex {
  size_t in = 0, w = 0;
};

// The output stage of QLinearMatMul and QLinearConv, whose y_scale and y_zero_point are
// inputs 6 and 7. Writes output 0 of `shape`, int8 or uint8 as y's zero point (else input 0's
// type): y[i] = Requantize(acc[i] + bias[w], in_scale[in] * w_scale[w] / y_scale) with
// {in, w} = index_of(i). The multiplier is taken in float, as the ONNX reference computes it;
// the bias (optional, one per weight channel) joins the 32-bit accumulator, wrapping as it
// would.
template <typename IndexOf>
Status WriteRequantized(KernelContext& ctx, const std::vector<double>& in_scale,
                        const std::vector<double>& w_scale, const std::vector<int32_t>& acc,
                        const Shape& shape, IndexOf index_of, const int32_t* bias = nullptr) {
  const Tensor* y_zp = ctx.input(7);
  const DataType ytype = y_zp ? y_zp->dtype() : ctx.input(0)->dtype();
  if (!IsInt8Type(ytype))
    return ctx.Unsupported("output dtype " + DataTypeName(ytype) + " not supported (int8, uint8)");
  double y_scale, zp;
  SN_RETURN_IF_ERROR(SingleValue(ctx, ctx.input(6), 1, "y_scale", &y_scale));
  SN_RETURN_IF_ERROR(SingleValue(ctx, y_zp, 0, "y_zero_point", &zp));
  const float ys = static_cast<float>(y_scale);
  Tensor& y = ctx.Output(0, ytype, shape);
  auto write = [&](auto* out) {
    using Y = std::remove_pointer_t<decltype(out)>;
    for (size_t i = 0; i < acc.size(); ++i) {
      const ScaleIndex k = index_of(i);
      const float mult = static_cast<float>(static_cast<float>(in_scale[k.in]) *
                                            static_cast<float>(w_scale[k.w])) /
                         ys;
      const int32_t a = bias ? static_cast<int32_t>(int64_t{acc[i]} + bias[k.w]) : acc[i];
      out[i] = Requantize<Y>(a, mult, zp);
    }
  };
  if (ytype == DataType::kUint8)
    write(y.data<uint8_t>());
  else
    write(y.data<int8_t>());
  return Status::Ok();
}

}  // namespace supernova::ops
