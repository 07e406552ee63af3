#include "supernova/tensor.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "common/element_count.h"

namespace supernova {

size_t DataTypeSize(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return 4;
    case DataType::kUint8:
      return 1;
    case DataType::kInt8:
      return 1;
    case DataType::kUint16:
      return 2;
    case DataType::kInt16:
      return 2;
    case DataType::kInt32:
      return 4;
    case DataType::kInt64:
      return 8;
    case DataType::kBool:
      return 1;
    case DataType::kFloat16:
      return 2;
    case DataType::kFloat64:
      return 8;
    case DataType::kUint32:
      return 4;
    case DataType::kUint64:
      return 8;
    case DataType::kBFloat16:
      return 2;
    case DataType::kString:
    case DataType::kUndefined:
      return 0;
  }
  return 0;
}

std::string DataTypeName(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kUint8:
      return "uint8";
    case DataType::kInt8:
      return "int8";
    case DataType::kUint16:
      return "uint16";
    case DataType::kInt16:
      return "int16";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt64:
      return "int64";
    case DataType::kBool:
      return "bool";
    case DataType::kFloat16:
      return "float16";
    case DataType::kFloat64:
      return "float64";
    case DataType::kUint32:
      return "uint32";
    case DataType::kUint64:
      return "uint64";
    case DataType::kBFloat16:
      return "bfloat16";
    case DataType::kString:
      return "string";
    case DataType::kUndefined:
      break;
  }
  return "undefined(" + std::to_string(static_cast<int>(t)) + ")";
}

bool IsKnownDataType(int32_t v) { return (v >= 1 && v <= 13) || v == 16; }

Float16 Float16::FromFloat(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  Float16 h;
  if (exp == 0xff) {  // inf or nan
    h.bits = static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
    return h;
  }
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) {  // overflow to inf
    h.bits = static_cast<uint16_t>(sign | 0x7c00u);
    return h;
  }
  if (e <= 0) {  // subnormal or zero
    if (e < -10) {
      h.bits = static_cast<uint16_t>(sign);
      return h;
    }
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half_mant = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1))) ++half_mant;
    h.bits = static_cast<uint16_t>(sign | half_mant);
    return h;
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent
  h.bits = static_cast<uint16_t>(half);
  return h;
}

float Float16::ToFloat() const {
  uint32_t sign = (bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1f;
  uint32_t mant = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    if (mant == 0) {
      out = sign;
    } else {
      float f = std::ldexp(static_cast<float>(mant), -24);
      return sign ? -f : f;
    }
  } else if (exp == 0x1f) {
    out = sign | 0x7f800000u | (mant << 13);
  } else {
    out = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(out);
}

BFloat16 BFloat16::FromFloat(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  BFloat16 b;
  if (std::isnan(f)) {
    b.bits = static_cast<uint16_t>((x >> 16) | 0x40u);
    return b;
  }
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);  // round to nearest even
  b.bits = static_cast<uint16_t>((x + rounding) >> 16);
  return b;
}

float BFloat16::ToFloat() const { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

int64_t NumElements(const Shape& shape) {
  // Saturating: a hostile model's shape must not make the arithmetic undefined. Tensors are
  // never made that large (CheckedNumElements in the constructors).
  // A 0 anywhere makes an empty tensor, however far the other dims overflowed before it.
  for (int64_t d : shape)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

class HeapAllocator final : public Allocator {
 public:
  void* Allocate(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    return std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  }
  void Free(void* p, size_t) override { std::free(p); }
};

// A string tensor's storage: numel empty std::strings, freed with their last owner. The
// allocators hand out bytes, which cannot hold objects that own memory, so strings bypass
// them. DataTypeSize(kString) stays 0: a byte copy of a string tensor copies nothing, and
// ops::RunKernel (ops/op.h) keeps string inputs from every kernel that does not declare them.
std::shared_ptr<void> MakeStrings(int64_t numel) {
  std::shared_ptr<std::string[]> strings(new std::string[static_cast<size_t>(numel)]);
  return std::shared_ptr<void>(strings, strings.get());
}

}  // namespace

Allocator* DefaultAllocator() {
  static HeapAllocator allocator;
  return &allocator;
}

std::string Device::ToString() const {
  switch (type) {
    case DeviceType::kCpu:
      return "cpu";
    case DeviceType::kCuda:
      return "cuda:" + std::to_string(index);
    case DeviceType::kTest:
      return "test:" + std::to_string(index);
  }
  return "device?";
}

Tensor::Tensor(DataType dtype, Shape shape, Allocator* allocator)
    : dtype_(dtype), shape_(std::move(shape)) {
  // A shape a hostile model computed: too large to be real, or negative.
  if (CheckedNumElements(shape_) < 0) throw std::bad_alloc();
  if (dtype_ == DataType::kString) {
    base_ = MakeStrings(numel());
    return;
  }
  Allocator* a = allocator ? allocator : DefaultAllocator();
  device_ = a->device();
  size_t bytes = nbytes();
  void* p = a->Allocate(bytes);
  if (p == nullptr) throw std::bad_alloc();
  base_ = std::shared_ptr<void>(p, [a, bytes](void* q) { a->Free(q, bytes); });
}

Tensor::Tensor(DataType dtype, Shape shape, std::shared_ptr<Allocator> allocator)
    : dtype_(dtype), device_(allocator->device()), shape_(std::move(shape)) {
  if (CheckedNumElements(shape_) < 0) throw std::bad_alloc();
  if (dtype_ == DataType::kString) {
    device_ = {};
    base_ = MakeStrings(numel());
    return;
  }
  size_t bytes = nbytes();
  void* p = allocator->Allocate(bytes);
  if (p == nullptr) throw std::bad_alloc();
  base_ =
      std::shared_ptr<void>(p, [a = std::move(allocator), bytes](void* q) { a->Free(q, bytes); });
}

Tensor Tensor::Wrap(DataType dtype, Shape shape, void* data, std::shared_ptr<void> keep_alive,
                    Device device) {
  Tensor t;
  t.dtype_ = dtype;
  t.device_ = device;
  t.shape_ = std::move(shape);
  // Aliasing constructor: shares ownership with keep_alive but points at data.
  t.base_ = std::shared_ptr<void>(std::move(keep_alive), data);
  return t;
}

Result<Tensor> Tensor::Reshaped(Shape shape) const {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) return Status::InvalidArgument("reshape: more than one -1 in shape");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return Status::InvalidArgument("reshape: negative dim in " + ShapeToString(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0)
      return Status::InvalidArgument("reshape: cannot infer -1 in " + ShapeToString(shape) +
                                     " for " + std::to_string(numel()) + " elements");
    shape[static_cast<size_t>(infer)] = numel() / known;
  } else if (known != numel()) {
    return Status::InvalidArgument("reshape: " + ShapeToString(shape_) + " has " +
                                   std::to_string(numel()) + " elements, " + ShapeToString(shape) +
                                   " needs " + std::to_string(known));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  if (!defined()) return {};
  assert(on_host() && "Clone() of a device tensor: copy it to the host through its provider");
  Tensor t(dtype_, shape_);
  if (dtype_ == DataType::kString)
    std::copy_n(data<std::string>(), numel(), t.data<std::string>());
  else if (nbytes() > 0)
    std::memcpy(t.raw_data(), raw_data(), nbytes());
  return t;
}

double Tensor::GetAsDouble(int64_t i) const {
  assert(on_host() && "GetAsDouble() of a device tensor");
  switch (dtype_) {
    case DataType::kFloat32:
      return data<float>()[i];
    case DataType::kFloat64:
      return data<double>()[i];
    case DataType::kFloat16:
      return data<Float16>()[i].ToFloat();
    case DataType::kBFloat16:
      return data<BFloat16>()[i].ToFloat();
    case DataType::kUint8:
      return data<uint8_t>()[i];
    case DataType::kInt8:
      return data<int8_t>()[i];
    case DataType::kUint16:
      return data<uint16_t>()[i];
    case DataType::kInt16:
      return data<int16_t>()[i];
    case DataType::kInt32:
      return data<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(data<int64_t>()[i]);
    case DataType::kUint32:
      return data<uint32_t>()[i];
    case DataType::kUint64:
      return static_cast<double>(data<uint64_t>()[i]);
    case DataType::kBool:
      return data<bool>()[i] ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  switch (dtype_) {
    case DataType::kInt64:
      return data<int64_t>()[i];
    case DataType::kInt32:
      return data<int32_t>()[i];
    case DataType::kUint64:
      return static_cast<int64_t>(data<uint64_t>()[i]);
    default:
      return static_cast<int64_t>(GetAsDouble(i));
  }
}

}  // namespace supernova
