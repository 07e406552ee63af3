// Pooling family: MaxPool (with optional Indices), AveragePool, LpPool, GlobalAveragePool and
// GlobalMaxPool, for 1-D to 3-D windows over NC... tensors.
//
// Windows of every rank run through one 3-D loop nest (lower ranks get leading unit axes).
// For each axis the range of window taps that fall inside the input is precomputed per output
// index, so the inner loops carry no bounds checks.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/spatial.h"

namespace supernova::ops {
namespace {

// Per axis and output index: window start and the taps [lo, hi) inside the input, plus the
// number of taps inside input-plus-padding (AveragePool's count_include_pad divisor).
struct AxisTaps {
  std::vector<int64_t> start, lo, hi, padded_count;
};

AxisTaps ComputeTaps(const WindowGeometry& g, size_t axis) {
  AxisTaps t;
  const int64_t out = g.out[axis], in = g.in[axis], k = g.kernel[axis];
  const int64_t s = g.strides[axis], dl = g.dilations[axis];
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - g.pad_begin[axis];
    int64_t lo = start >= 0 ? 0 : (-start + dl - 1) / dl;
    int64_t hi = in - 1 - start < 0 ? 0 : (in - 1 - start) / dl + 1;
    lo = std::min(lo, k);
    hi = std::max(lo, std::min(hi, k));
    const int64_t limit = in + g.pad_end[axis];  // first position past the end padding
    int64_t padded = limit - 1 - start < 0 ? 0 : (limit - 1 - start) / dl + 1;
    padded = std::min(padded, k);
    t.start.push_back(start);
    t.lo.push_back(lo);
    t.hi.push_back(hi);
    t.padded_count.push_back(padded);
  }
  return t;
}

Status CheckPoolInput(const KernelContext& ctx, const Tensor* x) {
  if (!x) return ctx.Error("missing input X");
  if (x->rank() < 3)
    return ctx.Error("X must have rank >= 3 (N, C, spatial...), got " + ShapeToString(x->shape()));
  return Status::Ok();
}

// Resolves the window of MaxPool/AveragePool on X, padded to rank 3.
Status PoolGeometry(const KernelContext& ctx, const Tensor& x, WindowGeometry* g) {
  if (x.rank() > 5) return ctx.Unsupported("pooling supports 1-D to 3-D windows only");
  if (!ctx.node.HasAttr("kernel_shape")) return ctx.Error("kernel_shape attribute is required");
  const std::vector<int64_t> kernel = ctx.node.AttrInts("kernel_shape");
  const std::vector<int64_t> in_dims(x.shape().begin() + 2, x.shape().end());
  const bool ceil_mode = ctx.node.AttrInt("ceil_mode", 0) != 0;
  return ResolveWindow(ctx, in_dims, kernel, ceil_mode, g);
}

Shape PoolOutputShape(const Tensor& x, const WindowGeometry& g) {
  Shape s = {x.dim(0), x.dim(1)};
  for (int64_t o : g.out) s.push_back(o);
  return s;
}

// Folds every in-input tap of each window into the output with `combine`, one output row at
// a time: for fixed (od, oh) and tap (kd, kh, kw) the outputs whose tap lies inside the input
// form one run of ow, so the innermost loop is a plain (strided) sweep the compiler
// vectorises.
template <typename T, typename Combine>
void RowwisePool(const T* xp, const WindowGeometry& g3, const AxisTaps& td, const AxisTaps& th,
                 T init, Combine combine, T* yp) {
  const int64_t ih_n = g3.in[1], iw_n = g3.in[2];
  const int64_t od_n = g3.out[0], oh_n = g3.out[1], ow_n = g3.out[2], kw_n = g3.kernel[2];
  const int64_t sw = g3.strides[2];
  std::vector<int64_t> lo(kw_n), hi(kw_n), off(kw_n);
  for (int64_t kw = 0; kw < kw_n; ++kw) {
    off[kw] = kw * g3.dilations[2] - g3.pad_begin[2];
    ValidRange(off[kw], sw, iw_n, ow_n, &lo[kw], &hi[kw]);
  }
  for (int64_t od = 0; od < od_n; ++od)
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      T* yrow = yp + (od * oh_n + oh) * ow_n;
      std::fill(yrow, yrow + ow_n, init);
      for (int64_t kd = td.lo[od]; kd < td.hi[od]; ++kd) {
        const int64_t d = td.start[od] + kd * g3.dilations[0];
        for (int64_t kh = th.lo[oh]; kh < th.hi[oh]; ++kh) {
          const int64_t h = th.start[oh] + kh * g3.dilations[1];
          const T* xrow = xp + (d * ih_n + h) * iw_n;
          for (int64_t kw = 0; kw < kw_n; ++kw) {
            const int64_t o = off[kw];
            if (sw == 1) {
              for (int64_t ow = lo[kw]; ow < hi[kw]; ++ow)
                yrow[ow] = combine(yrow[ow], xrow[ow + o]);
            } else {
              for (int64_t ow = lo[kw]; ow < hi[kw]; ++ow)
                yrow[ow] = combine(yrow[ow], xrow[ow * sw + o]);
            }
          }
        }
      }
    }
}

template <typename T>
void MaxPoolTyped(const Tensor& xt, const WindowGeometry& g3, Tensor& yt, Tensor* it,
                  bool col_major, int threads) {
  const int64_t planes = xt.dim(0) * xt.dim(1);
  const AxisTaps td = ComputeTaps(g3, 0), th = ComputeTaps(g3, 1), tw = ComputeTaps(g3, 2);
  const int64_t id_n = g3.in[0], ih_n = g3.in[1], iw_n = g3.in[2];
  const int64_t od_n = g3.out[0], oh_n = g3.out[1], ow_n = g3.out[2];
  const int64_t dd = g3.dilations[0], dh = g3.dilations[1], dw = g3.dilations[2];
  const int64_t in_plane = id_n * ih_n * iw_n, out_plane = od_n * oh_n * ow_n;
  const T* x = xt.data<T>();
  T* y = yt.data<T>();
  int64_t* ind = it ? it->data<int64_t>() : nullptr;
  if (!ind) {
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * out_plane > 16384)
    for (int64_t p = 0; p < planes; ++p)
      RowwisePool(
          x + p * in_plane, g3, td, th, std::numeric_limits<T>::lowest(),
          [](T a, T b) { return a < b ? b : a; }, y + p * out_plane);
    return;
  }
  // With Indices each output tracks its argmax: a per-output scan.
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * out_plane > 16384)
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * in_plane;
    T* yp = y + p * out_plane;
    int64_t* ip = ind + p * out_plane;
    for (int64_t od = 0; od < od_n; ++od)
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          T best = std::numeric_limits<T>::lowest();
          int64_t best_pos = -1;
          for (int64_t kd = td.lo[od]; kd < td.hi[od]; ++kd) {
            const int64_t d = td.start[od] + kd * dd;
            for (int64_t kh = th.lo[oh]; kh < th.hi[oh]; ++kh) {
              const int64_t h = th.start[oh] + kh * dh;
              const T* row = xp + (d * ih_n + h) * iw_n;
              for (int64_t kw = tw.lo[ow]; kw < tw.hi[ow]; ++kw) {
                const int64_t w = tw.start[ow] + kw * dw;
                if (row[w] > best || best_pos < 0) {
                  best = row[w];
                  best_pos = (d * ih_n + h) * iw_n + w;
                }
              }
            }
          }
          const int64_t o = (od * oh_n + oh) * ow_n + ow;
          yp[o] = best;
          int64_t pos = std::max<int64_t>(best_pos, 0);
          if (col_major) {
            // Column-major numbering of the spatial position: first axis varies fastest.
            const int64_t w = pos % iw_n, h = (pos / iw_n) % ih_n, d = pos / (iw_n * ih_n);
            pos = (w * ih_n + h) * id_n + d;
          }
          ip[o] = p * in_plane + pos;
        }
  }
}

// Sums the in-input taps of every window of each of `planes` planes of x into y, then hands
// each finished output plane to `finish` (AveragePool divides, LpPool takes the root).
template <typename T, typename Finish>
void SumWindows(const T* x, const WindowGeometry& g3, const AxisTaps& td, const AxisTaps& th,
                int64_t planes, T* y, int threads, Finish finish) {
  const int64_t in_plane = g3.in[0] * g3.in[1] * g3.in[2];
  const int64_t out_plane = g3.out[0] * g3.out[1] * g3.out[2];
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * out_plane > 16384)
  for (int64_t p = 0; p < planes; ++p) {
    T* yp = y + p * out_plane;
    RowwisePool(
        x + p * in_plane, g3, td, th, T(0), [](T a, T b) { return a + b; }, yp);
    finish(yp);
  }
}

template <typename T>
void AveragePoolTyped(const Tensor& xt, const WindowGeometry& g3, Tensor& yt,
                      bool count_include_pad, int threads) {
  const int64_t planes = xt.dim(0) * xt.dim(1);
  const AxisTaps td = ComputeTaps(g3, 0), th = ComputeTaps(g3, 1), tw = ComputeTaps(g3, 2);
  const int64_t od_n = g3.out[0], oh_n = g3.out[1], ow_n = g3.out[2];
  // Divisor per axis and output index: taps inside the input, or inside input plus padding.
  auto counts = [&](const AxisTaps& t) {
    std::vector<int64_t> c(t.lo.size());
    for (size_t i = 0; i < c.size(); ++i)
      c[i] = count_include_pad ? t.padded_count[i] : t.hi[i] - t.lo[i];
    return c;
  };
  const std::vector<int64_t> cd = counts(td), ch = counts(th), cw = counts(tw);
  SumWindows(xt.data<T>(), g3, td, th, planes, yt.data<T>(), threads, [&](T* yp) {
    for (int64_t od = 0; od < od_n; ++od)
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        T* yrow = yp + (od * oh_n + oh) * ow_n;
        const int64_t outer = cd[od] * ch[oh];
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          const int64_t count = outer * cw[ow];
          yrow[ow] = count > 0 ? yrow[ow] / static_cast<T>(count) : T(0);
        }
      }
  });
}

// Reduces every (n, c) plane of X to one value.
template <typename T, typename Reduce>
Status GlobalPool(KernelContext& ctx, Reduce reduce) {
  const Tensor* x = ctx.input(0);
  if (Status s = CheckPoolInput(ctx, x); !s.ok()) return s;
  Shape yshape = x->shape();
  for (size_t i = 2; i < yshape.size(); ++i) yshape[i] = 1;
  const int64_t planes = x->dim(0) * x->dim(1);
  int64_t plane = 1;
  for (size_t i = 2; i < x->rank(); ++i) plane *= x->dim(i);
  if (plane == 0 && planes > 0) return ctx.Error("global pooling over an empty spatial extent");
  Tensor& y = ctx.Output(0, x->dtype(), yshape);
  const T* xp = x->data<T>();
  T* yp = y.data<T>();
  const int threads = std::max(1, ctx.num_threads);
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * plane > 65536)
  for (int64_t p = 0; p < planes; ++p) yp[p] = reduce(xp + p * plane, plane);
  return Status::Ok();
}

}  // namespace

Status MaxPool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (Status s = CheckPoolInput(ctx, x); !s.ok()) return s;
  WindowGeometry g;
  if (Status s = PoolGeometry(ctx, *x, &g); !s.ok()) return s;
  const int64_t storage_order = ctx.node.AttrInt("storage_order", 0);
  if (storage_order != 0 && storage_order != 1) return ctx.Error("storage_order must be 0 or 1");
  Tensor& y = ctx.Output(0, x->dtype(), PoolOutputShape(*x, g));
  Tensor* indices = nullptr;
  if (ctx.output_wanted(1)) indices = &ctx.Output(1, DataType::kInt64, PoolOutputShape(*x, g));
  g.PadToRank(3);
  const int threads = std::max(1, ctx.num_threads);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    MaxPoolTyped<T>(*x, g, y, indices, storage_order == 1, threads);
    return Status::Ok();
  };
  switch (x->dtype()) {
    case DataType::kFloat32:
      return run(TypeTag<float>{});
    case DataType::kFloat64:
      return run(TypeTag<double>{});
    case DataType::kInt8:
      return run(TypeTag<int8_t>{});
    case DataType::kUint8:
      return run(TypeTag<uint8_t>{});
    default:
      return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  }
}

Status AveragePool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (Status s = CheckPoolInput(ctx, x); !s.ok()) return s;
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
    return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  WindowGeometry g;
  if (Status s = PoolGeometry(ctx, *x, &g); !s.ok()) return s;
  const bool count_include_pad = ctx.node.AttrInt("count_include_pad", 0) != 0;
  Tensor& y = ctx.Output(0, x->dtype(), PoolOutputShape(*x, g));
  g.PadToRank(3);
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    AveragePoolTyped<T>(*x, g, y, count_include_pad, threads);
    return Status::Ok();
  });
}

// LpPool: (sum over the window of |x|^p)^(1/p); padding contributes nothing. Taps are summed
// as |x|^p by the same row sweep as AveragePool.
Status LpPool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (Status s = CheckPoolInput(ctx, x); !s.ok()) return s;
  const int64_t p = ctx.node.AttrInt("p", 2);
  if (p <= 0) return ctx.Error("p must be positive, got " + std::to_string(p));
  WindowGeometry g;
  if (Status s = PoolGeometry(ctx, *x, &g); !s.ok()) return s;
  Tensor& y = ctx.Output(0, x->dtype(), PoolOutputShape(*x, g));
  g.PadToRank(3);
  const int threads = std::max(1, ctx.num_threads);
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor powered(x->dtype(), x->shape(), ctx.allocator());
    const T* xp = x->data<T>();
    T* pp = powered.data<T>();
    const int64_t n = x->numel();
    for (int64_t i = 0; i < n; ++i) {
      const T a = std::abs(xp[i]);
      pp[i] = p == 1 ? a : p == 2 ? a * a : std::pow(a, static_cast<T>(p));
    }
    const int64_t out_plane = g.out[0] * g.out[1] * g.out[2];
    SumWindows(
        pp, g, ComputeTaps(g, 0), ComputeTaps(g, 1), x->dim(0) * x->dim(1), y.data<T>(), threads,
        [&](T* yc) {
          for (int64_t o = 0; o < out_plane; ++o)
            yc[o] = p == 1 ? yc[o] : p == 2 ? std::sqrt(yc[o]) : std::pow(yc[o], T(1) / T(p));
        });
    return Status::Ok();
  });
}

Status GlobalAveragePool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    return GlobalPool<T>(ctx, [](const T* p, int64_t n) {
      // Eight partial sums: vectorisable without reassociating one running sum.
      constexpr int kLanes = 8;
      T part[kLanes] = {};
      int64_t i = 0;
      for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) part[l] += p[i + l];
      T sum = 0;
      for (; i < n; ++i) sum += p[i];
      for (int l = 0; l < kLanes; ++l) sum += part[l];
      return sum / static_cast<T>(n);
    });
  };
  switch (x->dtype()) {
    case DataType::kFloat32:
      return run(TypeTag<float>{});
    case DataType::kFloat64:
      return run(TypeTag<double>{});
    default:
      return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  }
}

Status GlobalMaxPool(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    return GlobalPool<T>(ctx, [](const T* p, int64_t n) {
      T best = p[0];
      for (int64_t i = 1; i < n; ++i) best = std::max(best, p[i]);
      return best;
    });
  };
  switch (x->dtype()) {
    case DataType::kFloat32:
      return run(TypeTag<float>{});
    case DataType::kFloat64:
      return run(TypeTag<double>{});
    default:
      return ctx.Unsupported("dtype " + DataTypeName(x->dtype()) + " not supported");
  }
}

namespace {
std::optional<Dims> PoolShape(InferContext& ctx) { return WindowShape(ctx, false); }

std::optional<Dims> GlobalPoolShape(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims d = ctx.in(0).dims();
  for (size_t i = 2; i < d.size(); ++i) d[i] = ir::Dim::Known(1);
  return d;
}

constexpr OpDef kOps[] = {
    {"AveragePool", AveragePool, PoolShape},
    {"GlobalAveragePool", GlobalAveragePool, GlobalPoolShape},
    {"GlobalMaxPool", GlobalMaxPool, GlobalPoolShape},
    {"LpPool", LpPool, PoolShape},
    {"MaxPool", MaxPool, PoolShape},
};

}  // namespace

std::span<const OpDef> PoolOps() { return kOps; }

}  // namespace supernova::ops
