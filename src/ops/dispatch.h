// Helpers shared by cpu kernels: dtype dispatch and axis handling.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "ops/kernel.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::ops {

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) for the C++ type of `dtype` among the float types (float32, float64).
// Returns Unimplemented for any other dtype. Usage:
//   return DispatchFloat(x.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ...});
template <typename F>
Status DispatchFloat(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kFloat32:
      return f(TypeTag<float>{});
    case DataType::kFloat64:
      return f(TypeTag<double>{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(dtype) + " not supported");
  }
}

// Float types plus the signed and unsigned integers (no bool, no float16).
template <typename F>
Status DispatchNumeric(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kFloat32:
      return f(TypeTag<float>{});
    case DataType::kFloat64:
      return f(TypeTag<double>{});
    case DataType::kInt64:
      return f(TypeTag<int64_t>{});
    case DataType::kInt32:
      return f(TypeTag<int32_t>{});
    case DataType::kInt16:
      return f(TypeTag<int16_t>{});
    case DataType::kInt8:
      return f(TypeTag<int8_t>{});
    case DataType::kUint8:
      return f(TypeTag<uint8_t>{});
    case DataType::kUint16:
      return f(TypeTag<uint16_t>{});
    case DataType::kUint32:
      return f(TypeTag<uint32_t>{});
    case DataType::kUint64:
      return f(TypeTag<uint64_t>{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(dtype) + " not supported");
  }
}

// Any storable dtype, by element size only: for kernels that move bytes (Transpose, Gather,
// Concat...). T is an unsigned integer of the element's width.
template <typename F>
Status DispatchBySize(DataType dtype, F&& f) {
  switch (DataTypeSize(dtype)) {
    case 1:
      return f(TypeTag<uint8_t>{});
    case 2:
      return f(TypeTag<uint16_t>{});
    case 4:
      return f(TypeTag<uint32_t>{});
    case 8:
      return f(TypeTag<uint64_t>{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(dtype) + " not supported");
  }
}

// Normalises a possibly negative axis against `rank`; false when out of [-rank, rank).
inline bool NormalizeAxis(int64_t& axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  return true;
}

// NormalizeAxis for kernels: an axis out of range becomes the error "axis A out of range for
// <rank_name> R", so every op words it the same way.
inline Status CheckAxis(const KernelContext& ctx, int64_t* axis, int64_t rank,
                        const char* rank_name = "rank") {
  if (NormalizeAxis(*axis, rank)) return Status::Ok();
  return ctx.Error("axis " + std::to_string(*axis) + " out of range for " + rank_name + " " +
                   std::to_string(rank));
}

}  // namespace supernova::ops
