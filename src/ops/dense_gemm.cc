// The blocked GEMM declared in providers/cpu/gemm.h, shared by Conv, ConvTranspose, Gemm and
// MatMul.
//
// Scheme (Goto/BLIS style): C is cut into per-thread tiles; each thread loops over NC-wide
// column blocks of B and KC-deep slices of the shared dimension, packs the B slice into
// NR-wide column panels, then packs MC-tall row blocks of A into MR-tall row panels, and a
// MR x NR micro-kernel multiplies one A panel by one B panel with the accumulators held in
// registers. Packing makes both operands unit-stride in the kernel whatever the transposes
// and leading dimensions, and zero-pads edge panels so the kernel never branches on size.
#include "ops/dense_gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace supernova::ops {
namespace {

template <typename T>
struct Blocking;
// With the baseline x86-64 ISA (SSE2: 16 registers of 4 floats) a 4x8 float tile (8
// accumulator registers) measured fastest among 2x16, 4x8, 4x16, 6x8 and 8x8 (~30 GFLOP/s on
// one Zen core); larger tiles make gcc spill accumulators.
template <>
struct Blocking<float> {
  static constexpr int kMr = 4;
  static constexpr int kNr = 8;
  static constexpr int64_t kKc = 256;
  static constexpr int64_t kMc = 128;
  static constexpr int64_t kNc = 2048;
};
template <>
struct Blocking<double> {
  static constexpr int kMr = 4;
  static constexpr int kNr = 4;
  static constexpr int64_t kKc = 256;
  static constexpr int64_t kMc = 96;
  static constexpr int64_t kNc = 1024;
};

// acc = sum_p a[p] (x) b[p] over kc packed steps, then C = alpha * acc + beta * C (or
// C += alpha * acc when `accumulate`, for every K slice after the first).
template <typename T, int MR, int NR>
__attribute__((noinline)) void MicroKernel(int64_t kc, const T* __restrict a, const T* __restrict b,
                                           T* __restrict c, int64_t ldc, int mr, int nr, T alpha,
                                           T beta, bool accumulate) {
  // Flat accumulators and a copied B row: this shape is what gcc -O3 turns into whole-register
  // multiply-adds with the tile kept in registers (a 2-D acc[i * NR + j] form gets spilled).
  T acc[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const T* ap = a + p * MR;
    const T* bp = b + p * NR;
    T bv[NR];
    for (int j = 0; j < NR; ++j) bv[j] = bp[j];
    for (int i = 0; i < MR; ++i) {
      const T ai = ap[i];
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += ai * bv[j];
    }
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; ++i) {
      T* ci = c + i * ldc;
      if (accumulate) {
        for (int j = 0; j < NR; ++j) ci[j] += alpha * acc[i * NR + j];
      } else if (beta == T(0)) {
        for (int j = 0; j < NR; ++j) ci[j] = alpha * acc[i * NR + j];
      } else {
        for (int j = 0; j < NR; ++j) ci[j] = alpha * acc[i * NR + j] + beta * ci[j];
      }
    }
    return;
  }
  for (int i = 0; i < mr; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < nr; ++j) {
      if (accumulate)
        ci[j] += alpha * acc[i * NR + j];
      else if (beta == T(0))
        ci[j] = alpha * acc[i * NR + j];
      else
        ci[j] = alpha * acc[i * NR + j] + beta * ci[j];
    }
  }
}

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row panels: panel r holds
// element (i, p) at [r*kc*MR + p*MR + i], zero-padded to a multiple of MR rows.
template <typename T, int MR>
void PackA(bool trans, const T* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
           T* dst) {
  for (int64_t r = 0; r < mc; r += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, mc - r));
    T* d = dst + r * kc;
    if (!trans) {
      for (int i = 0; i < rows; ++i) {
        const T* src = a + (i0 + r + i) * lda + p0;
        for (int64_t p = 0; p < kc; ++p) d[p * MR + i] = src[p];
      }
      for (int i = rows; i < MR; ++i)
        for (int64_t p = 0; p < kc; ++p) d[p * MR + i] = T(0);
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const T* src = a + (p0 + p) * lda + i0 + r;
        T* dp = d + p * MR;
        int i = 0;
        for (; i < rows; ++i) dp[i] = src[i];
        for (; i < MR; ++i) dp[i] = T(0);
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-column panels: panel q holds
// element (p, j) at [q*kc*NR + p*NR + j], zero-padded to a multiple of NR columns.
template <typename T, int NR>
void PackB(bool trans, const T* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
           T* dst) {
  for (int64_t q = 0; q < nc; q += NR) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - q));
    T* d = dst + q * kc;
    if (!trans) {
      if (cols == NR) {
        for (int64_t p = 0; p < kc; ++p) {
          const T* src = b + (p0 + p) * ldb + j0 + q;
          for (int j = 0; j < NR; ++j) d[p * NR + j] = src[j];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          const T* src = b + (p0 + p) * ldb + j0 + q;
          int j = 0;
          for (; j < cols; ++j) d[p * NR + j] = src[j];
          for (; j < NR; ++j) d[p * NR + j] = T(0);
        }
      }
    } else {
      for (int j = 0; j < cols; ++j) {
        const T* src = b + (j0 + q + j) * ldb + p0;
        for (int64_t p = 0; p < kc; ++p) d[p * NR + j] = src[p];
      }
      for (int j = cols; j < NR; ++j)
        for (int64_t p = 0; p < kc; ++p) d[p * NR + j] = T(0);
    }
  }
}

// One thread's share: C[m0:m1, n0:n1].
template <typename T>
void GemmTile(bool trans_a, bool trans_b, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k,
              T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c,
              int64_t ldc) {
  using B = Blocking<T>;
  constexpr int MR = B::kMr;
  constexpr int NR = B::kNr;
  // Per-thread scratch that survives across calls (OpenMP keeps its worker threads).
  thread_local std::vector<T> pack_a, pack_b;
  const int64_t kc_max = std::min<int64_t>(B::kKc, k);
  const int64_t mc_max = std::min<int64_t>(B::kMc, m1 - m0);
  const int64_t nc_max = std::min<int64_t>(B::kNc, n1 - n0);
  const size_t need_a = static_cast<size_t>(((mc_max + MR - 1) / MR) * MR * kc_max);
  const size_t need_b = static_cast<size_t>(((nc_max + NR - 1) / NR) * NR * kc_max);
  if (pack_a.size() < need_a) pack_a.resize(need_a);
  if (pack_b.size() < need_b) pack_b.resize(need_b);

  for (int64_t jc = n0; jc < n1; jc += B::kNc) {
    const int64_t nc = std::min<int64_t>(B::kNc, n1 - jc);
    for (int64_t pc = 0; pc < k; pc += B::kKc) {
      const int64_t kc = std::min<int64_t>(B::kKc, k - pc);
      const bool accumulate = pc > 0;
      PackB<T, NR>(trans_b, b, ldb, pc, kc, jc, nc, pack_b.data());
      for (int64_t ic = m0; ic < m1; ic += B::kMc) {
        const int64_t mc = std::min<int64_t>(B::kMc, m1 - ic);
        PackA<T, MR>(trans_a, a, lda, ic, mc, pc, kc, pack_a.data());
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          const T* bp = pack_b.data() + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            MicroKernel<T, MR, NR>(kc, pack_a.data() + ir * kc, bp, c + (ic + ir) * ldc + jc + jr,
                                   ldc, mr, nr, alpha, beta, accumulate);
          }
        }
      }
    }
  }
}

// C = beta * C for the degenerate k == 0 case (the product is empty).
template <typename T>
void ScaleC(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (beta == T(0))
      std::fill(ci, ci + n, T(0));
    else
      for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
  }
}

// A single output row (m == 1, common for fully connected layers at batch 1): packing would
// waste MR-1 of every MR kernel rows, so stream B directly.
template <typename T>
void GemvRow(bool trans_a, bool trans_b, int64_t n0, int64_t n1, int64_t k, T alpha, const T* a,
             int64_t lda, const T* b, int64_t ldb, T beta, T* c) {
  // Row 0 of op(A): contiguous unless A is stored transposed (k x 1, stride lda).
  auto a_at = [&](int64_t p) { return trans_a ? a[p * lda] : a[p]; };
  if (trans_b) {
    // Dot products. Eight independent partial sums let the compiler vectorise without
    // reassociating one running sum (which strict IEEE semantics forbid).
    constexpr int kLanes = 8;
    for (int64_t j = n0; j < n1; ++j) {
      const T* bj = b + j * ldb;
      T part[kLanes] = {};
      int64_t p = 0;
      if (!trans_a) {
        for (; p + kLanes <= k; p += kLanes)
          for (int l = 0; l < kLanes; ++l) part[l] += a[p + l] * bj[p + l];
      }
      T sum = 0;
      for (; p < k; ++p) sum += a_at(p) * bj[p];
      for (int l = 0; l < kLanes; ++l) sum += part[l];
      c[j] = alpha * sum + (beta == T(0) ? T(0) : beta * c[j]);
    }
    return;
  }
  constexpr int64_t kChunk = 256;
  T acc[kChunk];
  for (int64_t j0 = n0; j0 < n1; j0 += kChunk) {
    const int64_t w = std::min(kChunk, n1 - j0);
    std::fill(acc, acc + w, T(0));
    for (int64_t p = 0; p < k; ++p) {
      const T ap = a_at(p);
      const T* bp = b + p * ldb + j0;
      for (int64_t j = 0; j < w; ++j) acc[j] += ap * bp[j];
    }
    for (int64_t j = 0; j < w; ++j)
      c[j0 + j] = alpha * acc[j] + (beta == T(0) ? T(0) : beta * c[j0 + j]);
  }
}

}  // namespace

template <typename T>
void DenseGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, int num_threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    ScaleC(m, n, beta, c, ldc);
    return;
  }
  using B = Blocking<T>;
  // Below ~64K multiply-adds threading costs more than it saves.
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int threads = std::max(1, num_threads);
  if (work < 65536.0) threads = 1;
  if (omp_in_parallel()) threads = 1;

  if (m == 1) {
    const int64_t chunk_min = 64;
    threads = static_cast<int>(std::min<int64_t>(threads, (n + chunk_min - 1) / chunk_min));
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int t = 0; t < threads; ++t) {
      const int64_t n0 = n * t / threads, n1 = n * (t + 1) / threads;
      GemvRow(trans_a, trans_b, n0, n1, k, alpha, a, lda, b, ldb, beta, c);
    }
    return;
  }

  // Cut C into a grid of tm x tn per-thread blocks aligned to the micro-tile. Each thread
  // packs its own rows of A and columns of B, so the grid minimises the packed extent
  // m/tm + n/tn per thread; blocks keep at least two micro-tiles per side.
  const int64_t m_units = (m + B::kMr - 1) / B::kMr, n_units = (n + B::kNr - 1) / B::kNr;
  const int64_t max_tm = std::max<int64_t>(1, m_units / 2);
  const int64_t max_tn = std::max<int64_t>(1, n_units / 2);
  int tm = 1, tn = 1;
  // The largest thread count <= `threads` that factors into a fitting grid, best shape first.
  for (int total = threads; total > 1 && tm * tn == 1; --total) {
    double best = -1;
    for (int cand_m = 1; cand_m <= total; ++cand_m) {
      if (total % cand_m != 0) continue;
      const int cand_n = total / cand_m;
      if (cand_m > max_tm || cand_n > max_tn) continue;
      const double cost = static_cast<double>(m) / cand_m + static_cast<double>(n) / cand_n;
      if (best < 0 || cost < best) {
        best = cost;
        tm = cand_m;
        tn = cand_n;
      }
    }
  }
  threads = tm * tn;
  if (threads <= 1) {
    GemmTile(trans_a, trans_b, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int64_t bi = t / tn, bj = t % tn;
    const int64_t m0 = std::min(m, m_units * bi / tm * B::kMr);
    const int64_t m1 = std::min(m, m_units * (bi + 1) / tm * B::kMr);
    const int64_t n0 = std::min(n, n_units * bj / tn * B::kNr);
    const int64_t n1 = std::min(n, n_units * (bj + 1) / tn * B::kNr);
    if (m0 >= m1 || n0 >= n1) continue;
    GemmTile(trans_a, trans_b, m0, m1, n0, n1, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

template void DenseGemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                               const float*, int64_t, float, float*, int64_t, int);
template void DenseGemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                int64_t, const double*, int64_t, double, double*, int64_t, int);

}  // namespace supernova::ops
