// Element-wise kernels: unary functions, broadcasting binary ops, the conv epilogue, inference
// batch normalisation and Gemm's C broadcast. One thread per element in grid-stride loops.
#include <cstdint>

#include "providers/cuda/kernels.h"

namespace supernova::providers::cuda::kernels {
namespace {

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU; larger ranges loop (grid-stride).
constexpr int64_t kMaxBlocks = int64_t{1} << 16;

inline unsigned Blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}

__device__ inline int64_t FirstIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t GridStride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

// The math follows the cpu reference kernels (providers/cpu/activation.h, ops/unary.cc).
__device__ inline float ApplyUnary(float x, const UnaryParams& f) {
  switch (f.op) {
    case UnaryOp::kIdentity:
      return x;
    case UnaryOp::kRelu:
      return x < 0.0f ? 0.0f : x;
    case UnaryOp::kLeakyRelu:
      return x < 0.0f ? x * f.alpha : x;
    case UnaryOp::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case UnaryOp::kTanh:
      return tanhf(x);
    case UnaryOp::kClip:
      // min(max(x, lo), hi): every element becomes hi when lo > hi, as the spec's reference.
      return fminf(fmaxf(x, f.alpha), f.beta);
    case UnaryOp::kHardSigmoid:
      return fminf(fmaxf(f.alpha * x + f.beta, 0.0f), 1.0f);
    case UnaryOp::kHardSwish:
      return x * fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    case UnaryOp::kElu:
      return x < 0.0f ? f.alpha * expm1f(x) : x;
    case UnaryOp::kExp:
      return expf(x);
    case UnaryOp::kLog:
      return logf(x);
    case UnaryOp::kSqrt:
      return sqrtf(x);
    case UnaryOp::kAbs:
      return fabsf(x);
    case UnaryOp::kNeg:
      return -x;
    case UnaryOp::kErf:
      return erff(x);
  }
  return x;
}

__device__ inline float ApplyBinary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kPow:
      return powf(a, b);
    case BinaryOp::kMax:
      return fmaxf(a, b);
    case BinaryOp::kMin:
      return fminf(a, b);
  }
  return a;
}

__global__ void UnaryKernel(const float* x, float* y, int64_t n, UnaryParams f) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) y[i] = ApplyUnary(x[i], f);
}

__global__ void EpilogueKernel(float* y, const float* bias, const float* z, int64_t n,
                               int64_t channels, int64_t inner, UnaryParams f) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    float v = y[i];
    if (bias) v += bias[(i / inner) % channels];
    if (z) v += z[i];
    y[i] = ApplyUnary(v, f);
  }
}

// Operands with the output's own layout: no index arithmetic.
__global__ void BinarySameKernel(BinaryOp op, const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) y[i] = ApplyBinary(op, a[i], b[i]);
}

__global__ void BinaryBroadcastKernel(BinaryOp op, const float* a, const float* b, float* y,
                                      int64_t n, BroadcastDims d) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int k = d.rank - 1; k >= 0; --k) {
      const int64_t c = rem % d.out[k];
      rem /= d.out[k];
      ia += c * d.a_stride[k];
      ib += c * d.b_stride[k];
    }
    y[i] = ApplyBinary(op, a[ia], b[ib]);
  }
}

__global__ void BatchNormKernel(const float* x, const float* scale, const float* bias,
                                const float* mean, const float* var, float epsilon, float* y,
                                int64_t n, int64_t channels, int64_t inner) {
  for (int64_t i = FirstIndex(); i < n; i += GridStride()) {
    const int64_t c = (i / inner) % channels;
    y[i] = (x[i] - mean[c]) / sqrtf(var[c] + epsilon) * scale[c] + bias[c];
  }
}

__global__ void BroadcastScaledKernel(const float* c, int64_t c_rows, int64_t c_cols, float beta,
                                      float* y, int64_t m, int64_t n) {
  const int64_t total = m * n;
  for (int64_t i = FirstIndex(); i < total; i += GridStride()) {
    const int64_t r = c_rows == 1 ? 0 : i / n;
    const int64_t col = c_cols == 1 ? 0 : i % n;
    y[i] = beta * c[r * c_cols + col];
  }
}

}  // namespace

cudaError_t Unary(const float* x, float* y, int64_t n, UnaryParams f, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  UnaryKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n, f);
  return cudaGetLastError();
}

cudaError_t BiasResidualActivation(float* y, const float* bias, const float* z, int64_t outer,
                                   int64_t channels, int64_t inner, UnaryParams f,
                                   cudaStream_t stream) {
  const int64_t n = outer * channels * inner;
  if (n <= 0) return cudaSuccess;
  EpilogueKernel<<<Blocks(n), kThreads, 0, stream>>>(y, bias, z, n, channels, inner, f);
  return cudaGetLastError();
}

cudaError_t Binary(BinaryOp op, const float* a, const float* b, float* y, int64_t n,
                   const BroadcastDims& dims, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (dims.rank == 0)
    BinarySameKernel<<<Blocks(n), kThreads, 0, stream>>>(op, a, b, y, n);
  else
    BinaryBroadcastKernel<<<Blocks(n), kThreads, 0, stream>>>(op, a, b, y, n, dims);
  return cudaGetLastError();
}

cudaError_t BatchNorm(const float* x, const float* scale, const float* bias, const float* mean,
                      const float* var, float epsilon, float* y, int64_t outer, int64_t channels,
                      int64_t inner, cudaStream_t stream) {
  const int64_t n = outer * channels * inner;
  if (n <= 0) return cudaSuccess;
  BatchNormKernel<<<Blocks(n), kThreads, 0, stream>>>(x, scale, bias, mean, var, epsilon, y, n,
                                                      channels, inner);
  return cudaGetLastError();
}

cudaError_t BroadcastScaled(const float* c, int64_t c_rows, int64_t c_cols, float beta, float* y,
                            int64_t m, int64_t n, cudaStream_t stream) {
  if (m * n <= 0) return cudaSuccess;
  BroadcastScaledKernel<<<Blocks(m * n), kThreads, 0, stream>>>(c, c_rows, c_cols, beta, y, m, n);
  return cudaGetLastError();
}

}  // namespace supernova::providers::cuda::kernels
