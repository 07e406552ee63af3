// The cuda provider's own device kernels, as plain host-callable launchers.
//
// This header is the only thing the .cc files know of the .cu files: it uses no project types,
// so nvcc compiles the kernels without the project's C++20 headers, and the host code never
// sees device syntax. Every launcher queues its work on `stream`, returns at once with the
// launch's error (cudaSuccess when nothing was wrong with the launch; errors during execution
// surface at the next synchronisation), and does nothing for an empty range. Float32 only.
// Sizes and offsets are int64 throughout: a tensor may exceed 2^31 elements.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace supernova::providers::cuda::kernels {

// The highest rank the index-decomposing kernels take (after the host merged what it could).
constexpr int kMaxRank = 6;

// The element-wise functions, shared by the unary op and the fused epilogues so that a fused
// activation computes exactly what the separate op does.
enum class UnaryOp : int32_t {
  kIdentity,
  kRelu,
  kLeakyRelu,  // alpha
  kSigmoid,
  kTanh,
  kClip,         // alpha = lower bound, beta = upper bound
  kHardSigmoid,  // alpha, beta
  kHardSwish,
  kElu,  // alpha
  kExp,
  kLog,
  kSqrt,
  kAbs,
  kNeg,
  kErf,
};
struct UnaryParams {
  UnaryOp op = UnaryOp::kIdentity;
  float alpha = 0;
  float beta = 0;
};

// y[i] = f(x[i]) for i < n; x == y is allowed.
cudaError_t Unary(const float* x, float* y, int64_t n, UnaryParams f, cudaStream_t stream);

// In place over y viewed as [outer, channels, inner]:
// y = f(y + bias[c] + z) with bias (per channel) and z (same shape as y) each optional.
cudaError_t BiasResidualActivation(float* y, const float* bias, const float* z, int64_t outer,
                                   int64_t channels, int64_t inner, UnaryParams f,
                                   cudaStream_t stream);

enum class BinaryOp : int32_t { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin };

// Output dims and the element strides of both operands per output dim (0 where an operand is
// broadcast). rank 0 means all three are contiguous with the same n elements.
struct BroadcastDims {
  int32_t rank = 0;
  int64_t out[kMaxRank] = {};
  int64_t a_stride[kMaxRank] = {};
  int64_t b_stride[kMaxRank] = {};
};

// y[i] = op(a[..], b[..]) for the n = prod(out) output elements.
cudaError_t Binary(BinaryOp op, const float* a, const float* b, float* y, int64_t n,
                   const BroadcastDims& dims, cudaStream_t stream);

// Inference batch normalisation over x viewed as [outer, channels, inner]:
// y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + bias[c].
cudaError_t BatchNorm(const float* x, const float* scale, const float* bias, const float* mean,
                      const float* var, float epsilon, float* y, int64_t outer, int64_t channels,
                      int64_t inner, cudaStream_t stream);

// y[i][j] = beta * c[i or 0][j or 0] for a [m, n] y: Gemm's C broadcast to its output before
// the product accumulates onto it. c is [c_rows, c_cols] with c_rows in {1, m}, c_cols in
// {1, n}.
cudaError_t BroadcastScaled(const float* c, int64_t c_rows, int64_t c_cols, float beta, float* y,
                            int64_t m, int64_t n, cudaStream_t stream);

// Softmax (or LogSoftmax) of x viewed as [outer, len, inner] along the len axis.
cudaError_t Softmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool log,
                    cudaStream_t stream);

enum class ReduceOp : int32_t { kMean, kMax };
// y[r] = reduce(x[r * len .. r * len + len)) for r < rows; len must be > 0.
cudaError_t ReduceRows(const float* x, float* y, int64_t rows, int64_t len, ReduceOp op,
                       cudaStream_t stream);

// y (dims out, row-major) takes x's element at sum(coord[k] * in_stride[k]): a transpose when
// in_stride are x's strides permuted.
struct PermuteDims {
  int32_t rank = 0;
  int64_t out[kMaxRank] = {};
  int64_t in_stride[kMaxRank] = {};
};
cudaError_t Permute(const float* x, float* y, int64_t n, const PermuteDims& dims,
                    cudaStream_t stream);

// y (dims out) = x (dims in) placed at offset `begin` per axis, `value` elsewhere.
struct PadDims {
  int32_t rank = 0;
  int64_t out[kMaxRank] = {};
  int64_t in[kMaxRank] = {};
  int64_t begin[kMaxRank] = {};
};
cudaError_t PadConstant(const float* x, float* y, int64_t n, const PadDims& dims, float value,
                        cudaStream_t stream);

// A pooling window over `planes` contiguous planes of in[0] x in[1] x in[2] (lower-rank
// windows have leading unit axes). pad_end only bounds count_include_pad's divisor.
struct PoolGeometry {
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t kernel[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1};
  int64_t dilation[3] = {1, 1, 1};
  int64_t pad_begin[3] = {};
  int64_t pad_end[3] = {};
};
// Max over the taps inside the input (the lowest float when none is).
cudaError_t MaxPool(const float* x, float* y, int64_t planes, const PoolGeometry& g,
                    cudaStream_t stream);
// Mean over the taps inside the input, divided by their count, or by the taps inside input
// plus padding when count_include_pad (0 when the divisor is 0).
cudaError_t AveragePool(const float* x, float* y, int64_t planes, const PoolGeometry& g,
                        bool count_include_pad, cudaStream_t stream);

}  // namespace supernova::providers::cuda::kernels
