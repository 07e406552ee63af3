// Tensor: a typed, shaped, reference-counted view of a memory buffer.
//
//   supernova::Tensor t(supernova::DataType::kFloat32, {1, 3, 224, 224});
//   float* p = t.data<float>();                    // t.numel() floats, row-major
//   supernova::Tensor flat = t.Reshaped({1, -1});  // shares t's buffer, no copy
//
// Copying a Tensor copies the handle, not the data (use Clone() for a deep copy).
// A Tensor may be read from several threads; writing needs external synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "supernova/status.h"

namespace supernova {

// Element types. The numbers are ONNX's TensorProto.DataType values.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString (its elements are std::strings: tensor.cc).
size_t DataTypeSize(DataType t);
// "float32", "int64", ...; "undefined(N)" for unknown values.
std::string DataTypeName(DataType t);
bool IsKnownDataType(int32_t value);

// IEEE half and bfloat16 storage types; arithmetic happens in float.
struct Float16 {
  uint16_t bits = 0;
  static Float16 FromFloat(float f);
  float ToFloat() const;
};
struct BFloat16 {
  uint16_t bits = 0;
  static BFloat16 FromFloat(float f);
  float ToFloat() const;
};

template <typename T>
constexpr DataType DataTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return DataType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DataType::kFloat64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DataType::kUint8;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DataType::kInt8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DataType::kUint16;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DataType::kInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DataType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DataType::kInt64;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DataType::kUint32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DataType::kUint64;
  else if constexpr (std::is_same_v<T, bool>)
    return DataType::kBool;
  else if constexpr (std::is_same_v<T, std::string>)
    return DataType::kString;
  else if constexpr (std::is_same_v<T, Float16>)
    return DataType::kFloat16;
  else if constexpr (std::is_same_v<T, BFloat16>)
    return DataType::kBFloat16;
  else
    return DataType::kUndefined;
}

using Shape = std::vector<int64_t>;
// Product of dims (1 for a scalar). Dims must be non-negative.
int64_t NumElements(const Shape& shape);
// "[1,3,224,224]"
std::string ShapeToString(const Shape& shape);

// Where a tensor's memory lives. Host memory (kCpu) is what the caller and the cpu kernels
// read; other devices' memory is reached only through their provider (device copies).
enum class DeviceType : uint8_t { kCpu = 0, kCuda = 1, kTest = 2 };
struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;
  bool is_host() const { return type == DeviceType::kCpu; }
  bool operator==(const Device&) const = default;
  std::string ToString() const;  // "cpu", "cuda:0"
};

// Source of tensor memory. Implementations must be thread-safe.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns at least `bytes` bytes aligned to 64, or nullptr when exhausted.
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Free(void* p, size_t bytes) = 0;
  // Counts `bytes` that a kernel takes beside its tensors (scratch whose size the model or the
  // request chooses) against the allocator's limit until Unreserve: false when that would
  // pass it. An allocator without a limit accepts any.
  virtual bool Reserve(size_t bytes) {
    (void)bytes;
    return true;
  }
  virtual void Unreserve(size_t bytes) { (void)bytes; }
  // The device the memory is on.
  virtual Device device() const { return {}; }
};
// Process-wide aligned heap allocator.
Allocator* DefaultAllocator();

class Tensor {
 public:
  Tensor() = default;  // undefined: !defined()
  // Allocates uninitialised storage from `allocator` (DefaultAllocator() when null), or "" strings.
  Tensor(DataType dtype, Shape shape, Allocator* allocator = nullptr);
  // Same, and the buffer keeps `allocator` alive until it is freed.
  Tensor(DataType dtype, Shape shape, std::shared_ptr<Allocator> allocator);

  // Wraps memory the caller owns; `keep_alive` (may be null) is held as long as any view is.
  static Tensor Wrap(DataType dtype, Shape shape, void* data, std::shared_ptr<void> keep_alive,
                     Device device = {});
  // A tensor holding a copy of `values` with `shape` (numel must match).
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values, Shape shape) {
    static_assert(DataTypeOf<T>() != DataType::kUndefined, "no tensor element type for T");
    Tensor t(DataTypeOf<T>(), std::move(shape));
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
      // Not byte-copyable: bool is stored as one byte, a string element is a std::string.
      for (size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = values[i];
    } else {
      if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
    }
    return t;
  }
  // A 0-d tensor.
  template <typename T>
  static Tensor Scalar(T value) {
    return FromVector<T>(std::vector<T>{value}, {});
  }

  bool defined() const { return dtype_ != DataType::kUndefined; }
  DataType dtype() const { return dtype_; }
  // Where the data is. data() of a tensor not on the host is a device address: only its
  // provider's kernels and copies may dereference it.
  Device device() const { return device_; }
  bool on_host() const { return device_.is_host(); }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t i) const { return shape_[i]; }
  int64_t numel() const { return NumElements(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DataTypeSize(dtype_); }

  void* raw_data() { return static_cast<char*>(base_.get()) + offset_; }
  const void* raw_data() const { return static_cast<const char*>(base_.get()) + offset_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw_data());
  }

  // A view with another shape over the same buffer; one dim may be -1. Fails when the
  // element counts differ.
  Result<Tensor> Reshaped(Shape shape) const;
  // A deep copy in default-allocated memory. Host tensors only.
  Tensor Clone() const;
  // True when both views start at the same byte of the same buffer.
  bool SharesBufferWith(const Tensor& other) const { return base_ == other.base_; }

  // Reads element i (row-major) converted to double / int64, for any numeric dtype. Host
  // tensors only.
  double GetAsDouble(int64_t i) const;
  int64_t GetAsInt64(int64_t i) const;

 private:
  std::shared_ptr<void> base_;
  size_t offset_ = 0;
  DataType dtype_ = DataType::kUndefined;
  Device device_;
  Shape shape_;
};

}  // namespace supernova
