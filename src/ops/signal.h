// What the signal ops (DFT, STFT, the window functions, MelWeightMatrix) share: their scalar
// inputs, their float element types read and written through double, and the
// output_datatype attribute of the generators.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "ops/dispatch.h"
#include "ops/infer.h"
#include "ops/kernel.h"

namespace supernova::ops {

// Lengths (of a window, a transform, a matrix) past 2^30 points are refused: no model on an
// edge device asks for them, and the byte counts of what lies beyond can overflow.
constexpr int64_t kMaxSignalLength = int64_t{1} << 30;

template <typename T>
constexpr bool kIsHalfType = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

template <typename T>
inline double ToDouble(T v) {
  if constexpr (kIsHalfType<T>)
    return v.ToFloat();
  else
    return static_cast<double>(v);
}

// As Cast converts: integers truncate toward zero and saturate, NaN becomes 0.
template <typename T>
inline T FromDouble(double v) {
  if constexpr (kIsHalfType<T>) {
    return T::FromFloat(static_cast<float>(v));
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    if (v >= static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::max();
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

// The half types, then DispatchFloat's (kAllNumeric false: float32, float64, the T1 of DFT
// and STFT) or DispatchNumeric's (true: every type output_datatype may name).
template <bool kAllNumeric, typename F>
Status DispatchWithHalf(DataType dtype, F&& f) {
  if (dtype == DataType::kFloat16) return f(TypeTag<Float16>{});
  if (dtype == DataType::kBFloat16) return f(TypeTag<BFloat16>{});
  if constexpr (kAllNumeric)
    return DispatchNumeric(dtype, std::forward<F>(f));
  else
    return DispatchFloat(dtype, std::forward<F>(f));
}

// The output_datatype attribute (default float32) when it names a type the generators
// produce; kUndefined otherwise.
inline DataType OutputDatatype(const ir::Node& node) {
  const int64_t v = node.AttrInt("output_datatype", 1);
  if (v < 0 || v > 16 || !IsKnownDataType(static_cast<int32_t>(v))) return DataType::kUndefined;
  const auto t = static_cast<DataType>(v);
  if (t == DataType::kString || t == DataType::kBool || t == DataType::kUndefined)
    return DataType::kUndefined;
  return t;
}

// Input i as one integer: int32 or int64, of shape [] or [1].
inline Status ScalarInt(const KernelContext& ctx, size_t i, const char* name, int64_t* value) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.Error(std::string("missing input ") + name);
  if ((t->dtype() != DataType::kInt32 && t->dtype() != DataType::kInt64) || t->numel() != 1 ||
      t->rank() > 1)
    return ctx.Error(std::string(name) + " must be one int32 or int64 value, got " +
                     DataTypeName(t->dtype()) + ShapeToString(t->shape()));
  *value = t->GetAsInt64(0);
  return Status::Ok();
}

// Whether the node names input i (an optional input may be omitted: absent or "").
inline bool HasInput(const ir::Node& node, size_t i) {
  return i < node.inputs.size() && !node.inputs[i].empty();
}

// The same for shape inference: the value of a constant scalar input, or nullopt.
inline std::optional<int64_t> ConstScalar(const InferInput& in) {
  auto v = ConstInts(in);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

}  // namespace supernova::ops
