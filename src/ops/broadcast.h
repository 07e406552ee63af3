// Multidirectional (numpy) broadcasting for element-wise kernels.
//
// A BroadcastPlan maps an output shape onto N input shapes. It drops size-1 output dims and
// merges adjacent dims that every input walks contiguously (or skips together), so the common
// vision cases reduce to a few long rows:
//   same shape               -> 1 row, every input stride 1
//   tensor op scalar         -> 1 row, scalar stride 0
//   [N,C,H,W] op [1,C,1,1]   -> N*C rows of H*W, the channel value is constant in a row
// Kernels then run a tight loop per row; ForEachRow splits rows (and long rows) over threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::ops {

// Header-only: the cpu provider's CMake globs only ops/*.cc.

// Numpy broadcast of several shapes; InvalidArgument naming the shapes when incompatible.
inline Result<Shape> BroadcastShapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    const size_t lead = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t d = s[i];
      int64_t& o = out[lead + i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string all;
      for (const Shape& t : shapes) all += (all.empty() ? "" : " and ") + ShapeToString(t);
      return Status::InvalidArgument("shapes " + all + " cannot be broadcast together (axis " +
                                     std::to_string(lead + i) + ": " + std::to_string(d) + " vs " +
                                     std::to_string(o) + ")");
    }
  }
  return out;
}

// Whether `in` broadcasts to exactly `out` (unidirectional, as PRelu's slope must).
inline bool BroadcastsTo(const Shape& in, const Shape& out) {
  if (in.size() > out.size()) return false;
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1 && in[i] != out[lead + i]) return false;
  return true;
}

struct BroadcastPlan {
  // Collapsed dims; the last one is the row (inner) length. Never empty.
  std::vector<int64_t> dims;
  // strides[k][d]: element stride of input k along collapsed dim d (0 when broadcast).
  std::vector<std::vector<int64_t>> strides;
  int64_t rows = 1;   // product of all collapsed dims but the last
  int64_t inner = 1;  // last collapsed dim
  int64_t numel = 1;  // total output elements

  // Stride of input k inside a row: 0 (constant along the row) or 1 (contiguous). Only those
  // two occur, as the row is the innermost kept dim.
  int64_t inner_stride(size_t k) const { return strides[k].back(); }
  // Element offset of input k at the start of `row`.
  int64_t RowOffset(size_t k, int64_t row) const {
    int64_t off = 0;
    for (size_t d = dims.size() - 1; d-- > 0;) {
      const int64_t i = row % dims[d];
      row /= dims[d];
      off += i * strides[k][d];
    }
    return off;
  }
};

// Plans `inputs` broadcast to `out`. Every input must broadcast to `out` (checked by the caller
// via BroadcastShapes or BroadcastsTo).
inline BroadcastPlan MakeBroadcastPlan(const Shape& out, const std::vector<Shape>& inputs) {
  BroadcastPlan p;
  const size_t n = inputs.size();
  p.strides.assign(n, {});
  p.numel = NumElements(out);
  // An empty output has nothing to walk. Its other dims, and an empty input's, may be as large
  // as a model likes ([2^32, 2^56, 0] holds no element), so their strides are not computed:
  // their products could overflow.
  if (p.numel == 0) {
    p.dims = {0};
    for (size_t k = 0; k < n; ++k) p.strides[k] = {0};
    p.inner = 0;
    p.rows = 0;
    return p;
  }
  // Full-rank strides of every input in output coordinates.
  std::vector<std::vector<int64_t>> full(n, std::vector<int64_t>(out.size(), 0));
  for (size_t k = 0; k < n; ++k) {
    const Shape& s = inputs[k];
    const size_t lead = out.size() - s.size();
    int64_t stride = 1;
    for (size_t i = s.size(); i-- > 0;) {
      full[k][lead + i] = s[i] == 1 ? 0 : stride;
      stride *= s[i];
    }
  }
  // Size-1 output dims carry no iteration; a dim merges into the previous kept one when every
  // input continues it (stride[prev] == stride[d] * dim[d], which also holds for 0/0).
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t k = 0; merge && k < n; ++k) merge = p.strides[k].back() == full[k][d] * out[d];
    if (merge) {
      p.dims.back() *= out[d];
      for (size_t k = 0; k < n; ++k) p.strides[k].back() = full[k][d];
    } else {
      p.dims.push_back(out[d]);
      for (size_t k = 0; k < n; ++k) p.strides[k].push_back(full[k][d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (size_t k = 0; k < n; ++k) p.strides[k].push_back(0);
  }
  p.inner = p.dims.back();
  p.rows = p.numel / p.inner;
  return p;
}

// Below this many output elements a kernel runs single-threaded: thread start-up costs more.
inline constexpr int64_t kParallelThreshold = 1 << 15;

// Calls f(row, begin, end) for every row segment [begin, end) of the plan, spread over up to
// `num_threads` threads when the output is large. f must be thread-safe across segments.
template <typename F>
void ForEachRow(const BroadcastPlan& plan, int num_threads, F&& f) {
  const int64_t rows = plan.rows, inner = plan.inner;
  if (plan.numel == 0) return;
  if (num_threads <= 1 || plan.numel < kParallelThreshold) {
    for (int64_t r = 0; r < rows; ++r) f(r, int64_t{0}, inner);
    return;
  }
  // Few long rows (same-shape, scalar) are cut into chunks so every thread gets work.
  const int64_t want_tasks = int64_t{4} * num_threads;
  int64_t chunks = rows >= want_tasks ? 1 : (want_tasks + rows - 1) / rows;
  chunks = std::max<int64_t>(1, std::min(chunks, inner / 1024));
  const int64_t chunk = (inner + chunks - 1) / chunks;
  const int64_t tasks = rows * chunks;
#pragma omp parallel for num_threads(num_threads) schedule(static)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r = t / chunks, c = t % chunks;
    const int64_t begin = c * chunk, end = std::min(inner, begin + chunk);
    if (begin < end) f(r, begin, end);
  }
}

// Plain parallel loop over [0, n): f(begin, end) on contiguous blocks.
template <typename F>
void ParallelBlocks(int64_t n, int num_threads, F&& f) {
  if (n <= 0) return;
  if (num_threads <= 1 || n < kParallelThreshold) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t blocks = int64_t{4} * num_threads;
  const int64_t block = (n + blocks - 1) / blocks;
#pragma omp parallel for num_threads(num_threads) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * block, end = std::min(n, begin + block);
    if (begin < end) f(begin, end);
  }
}

// out[i] = op(a[i], b[i]) over a broadcast plan with two inputs. The three inner-loop shapes
// that matter (both contiguous, either one constant along the row) get their own loops so the
// compiler vectorises them.
template <typename TA, typename TB, typename TO, typename Op>
void BinaryBroadcastLoop(const BroadcastPlan& plan, const TA* a, const TB* b, TO* out,
                         int num_threads, Op op) {
  const int64_t sa = plan.inner_stride(0), sb = plan.inner_stride(1);
  ForEachRow(plan, num_threads, [&](int64_t row, int64_t begin, int64_t end) {
    const TA* pa = a + plan.RowOffset(0, row);
    const TB* pb = b + plan.RowOffset(1, row);
    TO* po = out + row * plan.inner;
    if (sa == 1 && sb == 1) {
      for (int64_t i = begin; i < end; ++i) po[i] = op(pa[i], pb[i]);
    } else if (sa == 0 && sb == 1) {
      const TA va = pa[0];
      for (int64_t i = begin; i < end; ++i) po[i] = op(va, pb[i]);
    } else if (sa == 1 && sb == 0) {
      const TB vb = pb[0];
      for (int64_t i = begin; i < end; ++i) po[i] = op(pa[i], vb);
    } else {
      for (int64_t i = begin; i < end; ++i) po[i] = op(pa[i * sa], pb[i * sb]);
    }
  });
}

}  // namespace supernova::ops
