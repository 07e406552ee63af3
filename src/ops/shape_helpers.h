// Small utilities shared by the shape, indexing and reduction kernels.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/kernel.h"

namespace supernova::ops {

// Reads a 0-d or 1-d int64/int32 tensor (shape, axes, pads, starts...) into `out`.
inline Status ReadInts(const KernelContext& ctx, const Tensor& t, const std::string& what,
                       std::vector<int64_t>* out) {
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32)
    return ctx.Error(what + " must be int64 or int32, got " + DataTypeName(t.dtype()));
  if (t.rank() > 1) return ctx.Error(what + " must be 1-D, got shape " + ShapeToString(t.shape()));
  const int64_t n = t.numel();
  out->resize(static_cast<size_t>(n));
  if (t.dtype() == DataType::kInt64) {
    const int64_t* p = t.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) (*out)[i] = p[i];
  } else {
    const int32_t* p = t.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) (*out)[i] = p[i];
  }
  return Status::Ok();
}

// Row-major strides (in elements) of `shape`.
inline std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

// Checks that dims are non-negative and that the element count fits in memory terms, so that
// shapes coming from tensor data (ConstantOfShape, Range, Tile...) cannot overflow or make the
// allocator throw.
inline Status CheckOutputShape(const KernelContext& ctx, const Shape& shape, DataType dtype) {
  constexpr int64_t kMaxBytes = int64_t{1} << 40;  // 1 TiB: beyond any real model
  const int64_t esize = static_cast<int64_t>(DataTypeSize(dtype));
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) return ctx.Error("negative dimension in output shape " + ShapeToString(shape));
    if (d == 0) zero = true;
  }
  if (zero) return Status::Ok();
  for (int64_t d : shape) {
    if (n > kMaxBytes / d) return ctx.Error("output shape " + ShapeToString(shape) + " too large");
    n *= d;
  }
  if (esize > 0 && n > kMaxBytes / esize)
    return ctx.Error("output shape " + ShapeToString(shape) + " too large");
  return Status::Ok();
}

// ctx.Output, reporting an allocation failure as a Status instead of throwing.
inline Status AllocOutput(KernelContext& ctx, size_t i, DataType dtype, Shape shape, Tensor** out) {
  SN_RETURN_IF_ERROR(CheckOutputShape(ctx, shape, dtype));
  try {
    *out = &ctx.Output(i, dtype, std::move(shape));
  } catch (const std::bad_alloc&) {
    return ctx.Error("out of memory allocating output " + std::to_string(i));
  }
  return Status::Ok();
}

// memcpy split across threads when it is large: a single big block (Concat or Split on the
// batch-1 channel axis) would otherwise keep one core busy while the rest wait.
inline void ParallelCopy(void* dst, const void* src, size_t bytes, int num_threads) {
  constexpr size_t kChunk = size_t{1} << 18;
  const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
  const int nt = chunks > 1 ? num_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = static_cast<size_t>(c) * kChunk;
    const size_t n = bytes - begin < kChunk ? bytes - begin : kChunk;
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin, n);
  }
}

// Copies a strided view of `src` into the contiguous row-major `dst`:
//   dst[i0, ..., ik] = src[sum_j ij * src_strides[j]]   (strides in elements, may be negative)
// `dims` are the output dims. Used by Transpose, Slice and friends; merges dims and picks a
// blocked path for transposes, block copies when the innermost dim is contiguous.
void StridedCopy(size_t elem_size, void* dst, const void* src, const Shape& dims,
                 const std::vector<int64_t>& src_strides, int num_threads);

}  // namespace supernova::ops
