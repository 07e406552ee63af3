#include <algorithm>
#include <cstring>

#include "ops/shape_helpers.h"

namespace supernova::ops {
namespace {

// Walks the outer dims of a copy in row-major order, tracking the source offset so that
// consecutive rows cost an increment rather than a division per dim.
struct Odometer {
  const int64_t* dims;
  const int64_t* strides;
  int rank;
  int64_t idx[16] = {};
  int64_t offset = 0;

  Odometer(const int64_t* d, const int64_t* s, int r, int64_t start)
      : dims(d), strides(s), rank(r) {
    for (int k = r - 1; k >= 0; --k) {
      idx[k] = start % dims[k];
      start /= dims[k];
      offset += idx[k] * strides[k];
    }
  }
  void Next() {
    for (int k = rank - 1; k >= 0; --k) {
      offset += strides[k];
      if (++idx[k] < dims[k]) return;
      offset -= idx[k] * strides[k];
      idx[k] = 0;
    }
  }
};

constexpr int64_t kParallelBytes = 256 * 1024;

int ThreadsFor(int64_t bytes, int num_threads) {
  return bytes >= kParallelBytes ? std::max(1, num_threads) : 1;
}

template <typename T>
void CopyRows(T* dst, const T* src, const std::vector<int64_t>& dims,
              const std::vector<int64_t>& strides, int num_threads) {
  const int r = static_cast<int>(dims.size());
  const int64_t n = dims[r - 1];
  const int64_t s = strides[r - 1];
  int64_t rows = 1;
  for (int k = 0; k + 1 < r; ++k) rows *= dims[k];
  const int nt = ThreadsFor(rows * n * static_cast<int64_t>(sizeof(T)), num_threads);
  // Chunks of rows keep the odometer cheap while giving every thread work.
  const int64_t chunks = std::min<int64_t>(rows, static_cast<int64_t>(nt) * 8);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
    Odometer it(dims.data(), strides.data(), r - 1, r0);
    for (int64_t row = r0; row < r1; ++row, it.Next()) {
      T* d = dst + row * n;
      const T* p = src + it.offset;
      if (s == 1) {
        std::memcpy(d, p, static_cast<size_t>(n) * sizeof(T));
      } else {
        for (int64_t j = 0; j < n; ++j) d[j] = p[j * s];
      }
    }
  }
}

// dst[a * oa + b] = src[a + b * sb] for a in [a0, a1), b in [b0, b1). Full 8x8 blocks touch
// only 8 source and 8 destination lines at a time, which survives power-of-two strides that
// would otherwise evict lines from the same cache set; fixed bounds let the compiler unroll.
template <typename T>
void TransposeTile(T* dst, const T* src, int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t oa,
                   int64_t sb) {
  constexpr int64_t kB = 8;
  int64_t b = b0;
  for (; b + kB <= b1; b += kB) {
    int64_t a = a0;
    for (; a + kB <= a1; a += kB) {
      for (int64_t i = 0; i < kB; ++i) {
        T* d = dst + (a + i) * oa + b;
        const T* p = src + a + i + b * sb;
        for (int64_t j = 0; j < kB; ++j) d[j] = p[j * sb];
      }
    }
    for (; a < a1; ++a)
      for (int64_t j = 0; j < kB; ++j) dst[a * oa + b + j] = src[a + (b + j) * sb];
  }
  for (; b < b1; ++b)
    for (int64_t a = a0; a < a1; ++a) dst[a * oa + b] = src[a + b * sb];
}

// The innermost output dim reads with a stride while another dim `ka` is contiguous in the
// source: a (batched) 2-D transpose. Copying in tiles keeps both the source lines and the
// destination lines in cache.
template <typename T>
void CopyTiled(T* dst, const T* src, const std::vector<int64_t>& dims,
               const std::vector<int64_t>& strides, int ka, int num_threads) {
  const int r = static_cast<int>(dims.size());
  const int64_t A = dims[ka], B = dims[r - 1];
  const int64_t sb = strides[r - 1];
  int64_t oa = 1;  // destination stride of dim ka
  for (int k = ka + 1; k < r; ++k) oa *= dims[k];
  std::vector<int64_t> out_strides(r, 1);
  for (int k = r - 1; k > 0; --k) out_strides[k - 1] = out_strides[k] * dims[k];
  // Outer dims: every dim but ka and the innermost.
  std::vector<int64_t> odims, ostr_src, ostr_dst;
  for (int k = 0; k + 1 < r; ++k)
    if (k != ka) {
      odims.push_back(dims[k]);
      ostr_src.push_back(strides[k]);
      ostr_dst.push_back(out_strides[k]);
    }
  int64_t outer = 1;
  for (int64_t d : odims) outer *= d;
  const int64_t ta = std::min<int64_t>(A, 32);
  const int64_t tb = std::max<int64_t>(32, 1024 / ta);
  const int64_t na = (A + ta - 1) / ta, nb = (B + tb - 1) / tb;
  const int64_t items = outer * na * nb;
  const int nt = ThreadsFor(outer * A * B * static_cast<int64_t>(sizeof(T)), num_threads);
  const int no = static_cast<int>(odims.size());
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t ib = item % nb;
    const int64_t ia = (item / nb) % na;
    int64_t o = item / (nb * na);
    int64_t src_off = 0, dst_off = 0;
    for (int k = no - 1; k >= 0; --k) {
      const int64_t i = o % odims[k];
      o /= odims[k];
      src_off += i * ostr_src[k];
      dst_off += i * ostr_dst[k];
    }
    const int64_t a0 = ia * ta, a1 = std::min(A, a0 + ta);
    const int64_t b0 = ib * tb, b1 = std::min(B, b0 + tb);
    TransposeTile(dst + dst_off, src + src_off, a0, a1, b0, b1, oa, sb);
  }
}

template <typename T>
void StridedCopyT(T* dst, const T* src, const Shape& in_dims,
                  const std::vector<int64_t>& in_strides, int num_threads) {
  // Size-1 dims carry no information; adjacent dims that are also adjacent in the source
  // collapse into one. Both make common cases (NHWC->NCHW, attention head splits) 2-D or 3-D.
  std::vector<int64_t> dims, strides;
  for (size_t k = 0; k < in_dims.size(); ++k) {
    if (in_dims[k] == 0) return;
    if (in_dims[k] == 1) continue;
    if (!dims.empty() && strides.back() == in_strides[k] * in_dims[k]) {
      dims.back() *= in_dims[k];
      strides.back() = in_strides[k];
    } else {
      dims.push_back(in_dims[k]);
      strides.push_back(in_strides[k]);
    }
  }
  if (dims.empty()) {
    dst[0] = src[0];
    return;
  }
  const int r = static_cast<int>(dims.size());
  if (r > 16) {  // beyond the odometer's capacity; never seen in practice
    int64_t total = 1;
    for (int64_t d : dims) total *= d;
    for (int64_t i = 0; i < total; ++i) {
      int64_t off = 0, rem = i;
      for (int k = r - 1; k >= 0; --k) {
        off += (rem % dims[k]) * strides[k];
        rem /= dims[k];
      }
      dst[i] = src[off];
    }
    return;
  }
  if (strides[r - 1] != 1) {
    int ka = -1;
    for (int k = 0; k + 1 < r; ++k)
      if (strides[k] == 1) ka = k;
    if (ka >= 0) return CopyTiled(dst, src, dims, strides, ka, num_threads);
  }
  CopyRows(dst, src, dims, strides, num_threads);
}

}  // namespace

void StridedCopy(size_t elem_size, void* dst, const void* src, const Shape& dims,
                 const std::vector<int64_t>& src_strides, int num_threads) {
  switch (elem_size) {
    case 1:
      return StridedCopyT(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), dims,
                          src_strides, num_threads);
    case 2:
      return StridedCopyT(static_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), dims,
                          src_strides, num_threads);
    case 4:
      return StridedCopyT(static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), dims,
                          src_strides, num_threads);
    case 8:
      return StridedCopyT(static_cast<uint64_t*>(dst), static_cast<const uint64_t*>(src), dims,
                          src_strides, num_threads);
    default: {
      // Any other width: copy element by element as bytes.
      const int r = static_cast<int>(dims.size());
      int64_t total = NumElements(dims);
      for (int64_t i = 0; i < total; ++i) {
        int64_t off = 0, rem = i;
        for (int k = r - 1; k >= 0; --k) {
          off += (rem % dims[k]) * src_strides[k];
          rem /= dims[k];
        }
        std::memcpy(static_cast<char*>(dst) + i * elem_size,
                    static_cast<const char*>(src) + off * static_cast<int64_t>(elem_size),
                    elem_size);
      }
    }
  }
}

}  // namespace supernova::ops
