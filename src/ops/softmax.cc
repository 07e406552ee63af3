// Softmax, LogSoftmax and Hardmax.
//
// Before opset 13 these coerce the input to 2-D at `axis` (rows = dims before it, the row is
// everything from it on; default axis 1). From opset 13 they work along the single dim `axis`
// (default -1). Both views are [outer, len, inner] blocks; the old one just has inner = 1.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/broadcast.h"
#include "ops/dispatch.h"
#include "ops/fast_math.h"
#include "ops/half_bridge.h"
#include "ops/op.h"

namespace supernova::ops {
namespace {

enum class Mode { kSoftmax, kLogSoftmax, kHardmax };

inline float Exp(float x) { return ExpF(x); }
inline double Exp(double x) { return std::exp(x); }

// One contiguous row of `len` elements.
template <typename T>
void Row(const T* x, T* y, int64_t len, Mode mode) {
  if (len == 0) return;
  if (mode == Mode::kHardmax) {
    int64_t best = 0;
    for (int64_t i = 1; i < len; ++i)
      if (x[i] > x[best]) best = i;
    for (int64_t i = 0; i < len; ++i) y[i] = T(0);
    y[best] = T(1);
    return;
  }
  T mx = x[0];
  for (int64_t i = 1; i < len; ++i) mx = std::max(mx, x[i]);
  // Accumulate in double for float rows: long rows (vocabularies, attention) lose precision.
  double sum = 0;
  if (mode == Mode::kSoftmax) {
    for (int64_t i = 0; i < len; ++i) y[i] = Exp(x[i] - mx);  // vectorises
    for (int64_t i = 0; i < len; ++i) sum += y[i];
    const T scale = static_cast<T>(1.0 / sum);
    for (int64_t i = 0; i < len; ++i) y[i] *= scale;
  } else {
    for (int64_t i = 0; i < len; ++i) sum += Exp(x[i] - mx);
    const T shift = mx + static_cast<T>(std::log(sum));
    for (int64_t i = 0; i < len; ++i) y[i] = x[i] - shift;
  }
}

// Columns [c0, c1) of a [len, inner] block (reduction along the strided dim).
template <typename T>
void Columns(const T* x, T* y, int64_t len, int64_t inner, int64_t c0, int64_t c1, Mode mode) {
  const int64_t w = c1 - c0;
  if (len == 0 || w <= 0) return;
  std::vector<T> mx(x + c0, x + c1);
  std::vector<int64_t> arg(static_cast<size_t>(w), 0);
  for (int64_t l = 1; l < len; ++l) {
    const T* row = x + l * inner + c0;
    for (int64_t c = 0; c < w; ++c) {
      if (row[c] > mx[c]) {
        mx[c] = row[c];
        arg[c] = l;
      }
    }
  }
  if (mode == Mode::kHardmax) {
    for (int64_t l = 0; l < len; ++l) {
      T* out = y + l * inner + c0;
      for (int64_t c = 0; c < w; ++c) out[c] = arg[c] == l ? T(1) : T(0);
    }
    return;
  }
  std::vector<double> sum(static_cast<size_t>(w), 0.0);
  for (int64_t l = 0; l < len; ++l) {
    const T* row = x + l * inner + c0;
    T* out = y + l * inner + c0;
    for (int64_t c = 0; c < w; ++c) {
      const T e = Exp(row[c] - mx[c]);
      if (mode == Mode::kSoftmax) out[c] = e;
      sum[c] += e;
    }
  }
  if (mode == Mode::kSoftmax) {
    std::vector<T> scale(static_cast<size_t>(w));
    for (int64_t c = 0; c < w; ++c) scale[c] = static_cast<T>(1.0 / sum[c]);
    for (int64_t l = 0; l < len; ++l) {
      T* out = y + l * inner + c0;
      for (int64_t c = 0; c < w; ++c) out[c] *= scale[c];
    }
  } else {
    std::vector<T> shift(static_cast<size_t>(w));
    for (int64_t c = 0; c < w; ++c) shift[c] = mx[c] + static_cast<T>(std::log(sum[c]));
    for (int64_t l = 0; l < len; ++l) {
      const T* row = x + l * inner + c0;
      T* out = y + l * inner + c0;
      for (int64_t c = 0; c < w; ++c) out[c] = row[c] - shift[c];
    }
  }
}

Status Run(KernelContext& ctx, KernelFn self, Mode mode) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  if (IsHalf(x->dtype())) return RunWidened(ctx, self);
  const int64_t rank = static_cast<int64_t>(x->rank());
  const bool coerce_2d = ctx.opset < 13;
  int64_t axis = ctx.node.AttrInt("axis", coerce_2d ? 1 : -1);
  if (rank == 0) return ctx.Error("input must have rank >= 1");
  SN_RETURN_IF_ERROR(CheckAxis(ctx, &axis, rank));
  const Shape& s = x->shape();
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= s[d];
  if (coerce_2d) {
    for (int64_t d = axis; d < rank; ++d) len *= s[d];
  } else {
    len = s[axis];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= s[d];
  }
  Status st = DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.Output(0, x->dtype(), s);
    const T* px = x->data<T>();
    T* py = out.data<T>();
    const int64_t block = len * inner;
    const bool parallel = ctx.num_threads > 1 && x->numel() >= kParallelThreshold;
    if (inner == 1) {
#pragma omp parallel for num_threads(ctx.num_threads) schedule(static) if (parallel)
      for (int64_t o = 0; o < outer; ++o) Row(px + o * len, py + o * len, len, mode);
    } else {
      // Column tiles keep the per-column state small and give threads work when outer is 1.
      constexpr int64_t kTile = 256;
      const int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for num_threads(ctx.num_threads) schedule(static) if (parallel)
      for (int64_t t = 0; t < outer * tiles; ++t) {
        const int64_t o = t / tiles, c0 = (t % tiles) * kTile;
        Columns(px + o * block, py + o * block, len, inner, c0, std::min(inner, c0 + kTile), mode);
      }
    }
    return Status::Ok();
  });
  return st.ok() ? st : st.WithContext(ctx.node.Label());
}

}  // namespace

Status Softmax(KernelContext& ctx) { return Run(ctx, Softmax, Mode::kSoftmax); }
Status LogSoftmax(KernelContext& ctx) { return Run(ctx, LogSoftmax, Mode::kLogSoftmax); }
Status Hardmax(KernelContext& ctx) { return Run(ctx, Hardmax, Mode::kHardmax); }

namespace {
constexpr OpDef kOps[] = {
    {"Hardmax", Hardmax, SameShape},
    {"LogSoftmax", LogSoftmax, SameShape},
    {"Softmax", Softmax, SameShape},
};

}  // namespace

std::span<const OpDef> SoftmaxOps() { return kOps; }

}  // namespace supernova::ops
