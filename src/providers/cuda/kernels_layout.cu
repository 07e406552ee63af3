// Kernels that move or reduce along axes: softmax, row reductions, transpose, constant
// padding and pooling windows.
#include <cfloat>
#include <cstdint>

#include "providers/cuda/kernels.h"

namespace supernova::providers::cuda::kernels {
namespace {

constexpr int kThreads = 256;  // a multiple of the warp size (the block reductions need it)
constexpr int kWarps = kThreads / 32;
constexpr int64_t kMaxBlocks = int64_t{1} << 16;

inline unsigned Blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}
// One block per row, the rows beyond the grid looped over.
inline unsigned RowBlocks(int64_t rows) {
  return static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks);
}

__device__ inline int64_t FirstIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t GridStride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

// Block-wide reductions for blockDim.x == kThreads; every thread gets the result. The leading
// barrier keeps a previous call's readers of `part` ahead of this call's writers.
__device__ float BlockSum(float v) {
  __shared__ float part[kWarps];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
  __syncthreads();
  const int lane = threadIdx.x & 31;
  v = lane < kWarps ? part[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ float BlockMax(float v) {
  __shared__ float part[kWarps];
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
  __syncthreads();
  const int lane = threadIdx.x & 31;
  v = lane < kWarps ? part[lane] : -FLT_MAX;
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Contiguous rows (inner == 1): one block per row.
__global__ void SoftmaxRowsKernel(const float* x, float* y, int64_t rows, int64_t len, bool log) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * len;
    float* yr = y + r * len;
    float m = -FLT_MAX;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = BlockMax(m);
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) s += expf(xr[j] - m);
    s = BlockSum(s);
    if (log) {
      const float shift = m + logf(s);
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) yr[j] = xr[j] - shift;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) yr[j] = expf(xr[j] - m) * inv;
    }
  }
}

// Strided rows (inner > 1): one thread per (outer, inner) column; neighbouring threads read
// neighbouring addresses.
__global__ void SoftmaxColumnsKernel(const float* x, float* y, int64_t outer, int64_t len,
                                     int64_t inner, bool log) {
  const int64_t columns = outer * inner;
  for (int64_t c = FirstIndex(); c < columns; c += GridStride()) {
    const int64_t base = (c / inner) * len * inner + c % inner;
    float m = -FLT_MAX;
    for (int64_t j = 0; j < len; ++j) m = fmaxf(m, x[base + j * inner]);
    float s = 0.0f;
    for (int64_t j = 0; j < len; ++j) s += expf(x[base + j * inner] - m);
    if (log) {
      const float shift = m + logf(s);
      for (int64_t j = 0; j < len; ++j) y[base + j * inner] = x[base + j * inner] - shift;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = 0; j < len; ++j) y[base + j * inner] = expf(x[base + j * inner] - m) * inv;
    }
  }
}

__global__ void ReduceRowsKernel(const float* x, float* y, int64_t rows, int64_t len, ReduceOp op) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * len;
    if (op == ReduceOp::kMax) {
      float m = -FLT_MAX;
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) m = fmaxf(m, xr[j]);
      m = BlockMax(m);
      if (threadIdx.x == 0) y[r] = m;
    } else {
      float s = 0.0f;
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) s += xr[j];
      s = BlockSum(s);
      if (threadIdx.x == 0) y[r] = s / static_cast<float>(len);
    }
  }
}

__global__ void PermuteKernel(const float* x, float* y, int64_t n, PermuteDims d) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    int64_t rem = i, src = 0;
    for (int k = d.rank - 1; k >= 0; --k) {
      src += (rem % d.out[k]) * d.in_stride[k];
      rem /= d.out[k];
    }
    y[i] = x[src];
  }
}

__global__ void PadConstantKernel(const float* x, float* y, int64_t n, PadDims d, float value) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    int64_t rem = i, src = 0, in_stride = 1;
    bool inside = true;
    for (int k = d.rank - 1; k >= 0; --k) {
      const int64_t c = rem % d.out[k] - d.begin[k];
      rem /= d.out[k];
      if (c < 0 || c >= d.in[k]) inside = false;
      src += c * in_stride;
      in_stride *= d.in[k];
    }
    y[i] = inside ? x[src] : value;
  }
}

// Taps k in [*lo, *hi) of a window starting at `start` whose positions start + k * dilation
// fall in [0, size); the same ranges as the cpu reference (ValidRange in spatial.h).
__device__ inline void TapRange(int64_t start, int64_t dilation, int64_t size, int64_t kernel,
                                int64_t* lo, int64_t* hi) {
  int64_t a = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  int64_t b = size - 1 - start < 0 ? 0 : (size - 1 - start) / dilation + 1;
  a = a < kernel ? a : kernel;
  b = b < kernel ? b : kernel;
  *lo = a;
  *hi = b > a ? b : a;
}

// Taps inside input plus padding: positions start + k * dilation < size + pad_end (the ones
// before the input are begin padding, also counted).
__device__ inline int64_t PaddedTaps(int64_t start, int64_t dilation, int64_t limit,
                                     int64_t kernel) {
  const int64_t c = limit - 1 - start < 0 ? 0 : (limit - 1 - start) / dilation + 1;
  return c < kernel ? c : kernel;
}

__global__ void PoolKernel(const float* x, float* y, int64_t planes, PoolGeometry g, bool is_max,
                           bool count_include_pad) {
  const int64_t out_plane = g.out[0] * g.out[1] * g.out[2];
  const int64_t in_plane = g.in[0] * g.in[1] * g.in[2];
  const int64_t n = planes * out_plane;
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    const int64_t ow = i % g.out[2];
    const int64_t oh = (i / g.out[2]) % g.out[1];
    const int64_t od = (i / (g.out[2] * g.out[1])) % g.out[0];
    const int64_t p = i / out_plane;
    const int64_t start[3] = {od * g.stride[0] - g.pad_begin[0], oh * g.stride[1] - g.pad_begin[1],
                              ow * g.stride[2] - g.pad_begin[2]};
    int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a)
      TapRange(start[a], g.dilation[a], g.in[a], g.kernel[a], &lo[a], &hi[a]);
    const float* xp = x + p * in_plane;
    float acc = is_max ? -FLT_MAX : 0.0f;
    for (int64_t kd = lo[0]; kd < hi[0]; ++kd) {
      const int64_t d = start[0] + kd * g.dilation[0];
      for (int64_t kh = lo[1]; kh < hi[1]; ++kh) {
        const int64_t h = start[1] + kh * g.dilation[1];
        const float* row = xp + (d * g.in[1] + h) * g.in[2];
        for (int64_t kw = lo[2]; kw < hi[2]; ++kw) {
          const float v = row[start[2] + kw * g.dilation[2]];
          if (is_max)
            acc = acc < v ? v : acc;
          else
            acc += v;
        }
      }
    }
    if (!is_max) {
      int64_t count = 1;
      for (int a = 0; a < 3; ++a)
        count *= count_include_pad
                     ? PaddedTaps(start[a], g.dilation[a], g.in[a] + g.pad_end[a], g.kernel[a])
                     : hi[a] - lo[a];
      acc = count > 0 ? acc / static_cast<float>(count) : 0.0f;
    }
    y[i] = acc;
  }
}

}  // namespace

cudaError_t Softmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool log,
                    cudaStream_t stream) {
  if (outer * len * inner <= 0) return cudaSuccess;
  if (inner == 1)
    SoftmaxRowsKernel<<<RowBlocks(outer), kThreads, 0, stream>>>(x, y, outer, len, log);
  else
    SoftmaxColumnsKernel<<<Blocks(outer * inner), kThreads, 0, stream>>>(x, y, outer, len, inner,
                                                                         log);
  return cudaGetLastError();
}

cudaError_t ReduceRows(const float* x, float* y, int64_t rows, int64_t len, ReduceOp op,
                       cudaStream_t stream) {
  if (rows <= 0 || len <= 0) return cudaSuccess;
  ReduceRowsKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(x, y, rows, len, op);
  return cudaGetLastError();
}

cudaError_t Permute(const float* x, float* y, int64_t n, const PermuteDims& dims,
                    cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  PermuteKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n, dims);
  return cudaGetLastError();
}

cudaError_t PadConstant(const float* x, float* y, int64_t n, const PadDims& dims, float value,
                        cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  PadConstantKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n, dims, value);
  return cudaGetLastError();
}

cudaError_t MaxPool(const float* x, float* y, int64_t planes, const PoolGeometry& g,
                    cudaStream_t stream) {
  const int64_t n = planes * g.out[0] * g.out[1] * g.out[2];
  if (n <= 0) return cudaSuccess;
  PoolKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, planes, g, true, false);
  return cudaGetLastError();
}

cudaError_t AveragePool(const float* x, float* y, int64_t planes, const PoolGeometry& g,
                        bool count_include_pad, cudaStream_t stream) {
  const int64_t n = planes * g.out[0] * g.out[1] * g.out[2];
  if (n <= 0) return cudaSuccess;
  PoolKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, planes, g, false, count_include_pad);
  return cudaGetLastError();
}

}  // namespace supernova::providers::cuda::kernels
