// The cpu provider's dense matrix multiply, shared by Conv, ConvTranspose, Gemm and MatMul.
//
//   C = alpha * op(A) * op(B) + beta * C
//
// All matrices are row-major with explicit leading dimensions; op(A) is m x k, op(B) is k x n
// (op(X) = X^T when the matching trans flag is set, so A is then stored k x m). When beta is 0
// C is only written, never read, so it may hold uninitialised memory.
//
// Uses up to num_threads OpenMP threads (fewer for small products); called from inside a
// parallel region it runs on the calling thread only. Only float and double are instantiated.
//
// The implementation (gemm.cc) packs panels of A and B into cache-sized blocks and
// runs a register-blocked micro-kernel written in plain C++ that the compiler vectorises.
#pragma once

#include <cstdint>

namespace supernova::ops {

template <typename T>
void DenseGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, int num_threads);

extern template void DenseGemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                      int64_t, const float*, int64_t, float, float*, int64_t, int);
extern template void DenseGemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                       int64_t, const double*, int64_t, double, double*, int64_t,
                                       int);

}  // namespace supernova::ops
