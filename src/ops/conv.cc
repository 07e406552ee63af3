// Conv (opsets 1-17): N-d grouped convolution.
//
// Three paths: a direct loop when each output channel reads a single input channel
// (depthwise, 1-D/2-D), the input itself as the GEMM operand for 1x1 stride-1 unpadded
// kernels, and im2col + GEMM otherwise. The im2col buffer is built for a band of output rows
// at a time so its size stays bounded on large images.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "ops/dense_gemm.h"
#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/spatial.h"

namespace supernova::ops {
namespace {

// Upper bound on the im2col buffer, in elements (4 MiB of floats); 1-16 MiB measured alike.
constexpr int64_t kColBudget = int64_t{1} << 20;

// Writes col[r][p] for rows r = (c, k_0..k_{d-1}) and the output positions p of output rows
// [row0, row1) along spatial axis 0 (the geometry has rank >= 2). x holds `channels` planes.
template <typename T>
void Im2Col(const T* x, int64_t channels, const WindowGeometry& g, int64_t row0, int64_t row1,
            T* col, int threads) {
  const size_t d = g.rank();
  const int64_t kprod = Product(g.kernel);
  const int64_t rows = channels * kprod;
  const int64_t in_plane = Product(g.in);
  const int64_t ow_n = g.out[d - 1];
  const int64_t iw_n = g.in[d - 1];
  const int64_t sw = g.strides[d - 1];
  // Output "lines": the positions of axes 0..d-2 within the band.
  const int64_t lines_per_row0 = Product(g.out, 1) / ow_n;
  const int64_t lines = (row1 - row0) * lines_per_row0;
  const int64_t cols = lines * ow_n;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / kprod;
    int64_t kidx[8];
    int64_t rem = r % kprod;
    for (size_t t = d; t-- > 0;) {
      kidx[t] = rem % g.kernel[t];
      rem /= g.kernel[t];
    }
    const int64_t w_off = kidx[d - 1] * g.dilations[d - 1] - g.pad_begin[d - 1];
    int64_t lo, hi;
    ValidRange(w_off, sw, iw_n, ow_n, &lo, &hi);
    const T* xc = x + c * in_plane;
    T* dst_row = col + r * cols;
    int64_t o[8];
    o[0] = row0;
    for (size_t t = 1; t + 1 < d; ++t) o[t] = 0;
    for (int64_t l = 0; l < lines; ++l) {
      T* dst = dst_row + l * ow_n;
      // Input offset of the line's outer coordinates, or -1 when one falls in the padding.
      int64_t off = 0;
      bool valid = true;
      for (size_t t = 0; t + 1 < d; ++t) {
        const int64_t i = o[t] * g.strides[t] - g.pad_begin[t] + kidx[t] * g.dilations[t];
        if (i < 0 || i >= g.in[t]) {
          valid = false;
          break;
        }
        off = off * g.in[t] + i;
      }
      if (!valid) {
        std::fill(dst, dst + ow_n, T(0));
      } else {
        const T* src = xc + off * iw_n;
        std::fill(dst, dst + lo, T(0));
        if (sw == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow + w_off];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw + w_off];
        }
        std::fill(dst + hi, dst + ow_n, T(0));
      }
      // Advance the odometer over axes d-2..0.
      for (size_t t = d - 1; t-- > 0;) {
        if (++o[t] < g.out[t] || t == 0) break;
        o[t] = 0;
      }
    }
  }
}

// One output plane of a 2-D convolution whose output channel reads one input plane.
template <typename T>
void DepthwisePlane(const T* x, const T* w, T bias, const WindowGeometry& g, T* y) {
  const int64_t ih_n = g.in[0], iw_n = g.in[1], oh_n = g.out[0], ow_n = g.out[1];
  const int64_t kh_n = g.kernel[0], kw_n = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1];
  int64_t lo[64], hi[64];
  const bool small = kw_n <= 64;
  if (small)
    for (int64_t kw = 0; kw < kw_n; ++kw)
      ValidRange(kw * g.dilations[1] - g.pad_begin[1], sw, iw_n, ow_n, &lo[kw], &hi[kw]);
  for (int64_t oh = 0; oh < oh_n; ++oh) {
    T* yrow = y + oh * ow_n;
    std::fill(yrow, yrow + ow_n, bias);
    for (int64_t kh = 0; kh < kh_n; ++kh) {
      const int64_t ih = oh * sh - g.pad_begin[0] + kh * g.dilations[0];
      if (ih < 0 || ih >= ih_n) continue;
      const T* xrow = x + ih * iw_n;
      for (int64_t kw = 0; kw < kw_n; ++kw) {
        const T wv = w[kh * kw_n + kw];
        const int64_t off = kw * g.dilations[1] - g.pad_begin[1];
        int64_t a, b;
        if (small) {
          a = lo[kw];
          b = hi[kw];
        } else {
          ValidRange(off, sw, iw_n, ow_n, &a, &b);
        }
        if (sw == 1) {
          for (int64_t ow = a; ow < b; ++ow) yrow[ow] += wv * xrow[ow + off];
        } else {
          for (int64_t ow = a; ow < b; ++ow) yrow[ow] += wv * xrow[ow * sw + off];
        }
      }
    }
  }
}

template <typename T>
Status ConvTyped(KernelContext& ctx, const Tensor& xt, const Tensor& wt, const Tensor* bt,
                 const WindowGeometry& geom, int64_t group) {
  const int64_t n_batch = xt.dim(0), c_in = xt.dim(1), m_out = wt.dim(0);
  Shape yshape = {n_batch, m_out};
  for (int64_t o : geom.out) yshape.push_back(o);
  Tensor& yt = ctx.Output(0, xt.dtype(), yshape);
  if (yt.numel() == 0) return Status::Ok();

  WindowGeometry g = geom;
  g.PadToRank(2);
  const size_t d = g.rank();
  const int64_t cg = c_in / group, mg = m_out / group;
  const int64_t kprod = Product(g.kernel);
  const int64_t kdim = cg * kprod;
  const int64_t in_size = Product(g.in), out_size = Product(g.out);
  const T* x = xt.data<T>();
  const T* w = wt.data<T>();
  const T* bias = bt ? bt->data<T>() : nullptr;
  T* y = yt.data<T>();
  const int threads = std::max(1, ctx.num_threads);

  if (cg == 1 && d == 2) {
    const int64_t planes = n_batch * m_out;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t n = p / m_out, m = p % m_out;
      const int64_t c = m / mg;  // the group index is the input channel
      DepthwisePlane(x + (n * c_in + c) * in_size, w + m * kprod, bias ? bias[m] : T(0), g,
                     y + p * out_size);
    }
    return Status::Ok();
  }

  bool pointwise = true;
  for (size_t t = 0; t < d; ++t)
    pointwise = pointwise && g.kernel[t] == 1 && g.strides[t] == 1 && g.pad_begin[t] == 0 &&
                g.pad_end[t] == 0;
  // Band of output rows (axis 0) per im2col buffer.
  const int64_t row_cols = out_size / g.out[0];
  const int64_t band =
      std::clamp<int64_t>(kColBudget / std::max<int64_t>(1, kdim * row_cols), 1, g.out[0]);

  // Computes output rows [r0, r1) of task (n, grp) into y with `gemm_threads`.
  auto run_task = [&](int64_t task, T* col, int gemm_threads) {
    const int64_t n = task / group, grp = task % group;
    const T* xg = x + (n * c_in + grp * cg) * in_size;
    const T* wg = w + grp * mg * kdim;
    T* yg = y + (n * m_out + grp * mg) * out_size;
    if (pointwise) {
      DenseGemm<T>(false, false, mg, out_size, kdim, T(1), wg, kdim, xg, in_size, T(0), yg,
                   out_size, gemm_threads);
      return;
    }
    for (int64_t r0 = 0; r0 < g.out[0]; r0 += band) {
      const int64_t r1 = std::min(g.out[0], r0 + band);
      const int64_t cols = (r1 - r0) * row_cols;
      Im2Col(xg, cg, g, r0, r1, col, gemm_threads);
      DenseGemm<T>(false, false, mg, cols, kdim, T(1), wg, kdim, col, cols, T(0),
                   yg + r0 * row_cols, out_size, gemm_threads);
    }
  };
  const int64_t col_elems = pointwise ? 0 : kdim * band * row_cols;
  const int64_t tasks = n_batch * group;
  // Many independent (image, group) products: one per thread. Few: thread inside each.
  const bool task_parallel = threads > 1 && (tasks % threads == 0 || tasks >= 4 * threads);
  if (task_parallel) {
#pragma omp parallel num_threads(threads)
    {
      std::unique_ptr<T[]> col(col_elems ? new T[col_elems] : nullptr);
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < tasks; ++t) run_task(t, col.get(), 1);
    }
  } else {
    std::unique_ptr<T[]> col(col_elems ? new T[col_elems] : nullptr);
    for (int64_t t = 0; t < tasks; ++t) run_task(t, col.get(), threads);
  }
  if (bias) {
    const int64_t planes = n_batch * m_out;
#pragma omp parallel for num_threads(threads) \
    schedule(static) if (threads > 1 && planes * out_size > 65536)
    for (int64_t p = 0; p < planes; ++p) {
      const T b = bias[p % m_out];
      T* yp = y + p * out_size;
      for (int64_t i = 0; i < out_size; ++i) yp[i] += b;
    }
  }
  return Status::Ok();
}

}  // namespace

Status Conv(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* b = ctx.input(2);
  int64_t group = 1;
  SN_RETURN_IF_ERROR(CheckConvOperands(ctx, x, w, b, &group));
  const int64_t c_in = x->dim(1), m_out = w->dim(0);
  if (w->dim(1) != c_in / group)
    return ctx.Error("W " + ShapeToString(w->shape()) + " with group " + std::to_string(group) +
                     " does not match " + std::to_string(c_in) + " input channels");
  if (m_out % group != 0) return ctx.Error("output channels not divisible by group");
  SN_RETURN_IF_ERROR(CheckConvBias(ctx, b, m_out));
  std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
  if (ctx.node.HasAttr("kernel_shape") && ctx.node.AttrInts("kernel_shape") != kernel)
    return ctx.Error("kernel_shape attribute does not match W " + ShapeToString(w->shape()));
  std::vector<int64_t> in_dims(x->shape().begin() + 2, x->shape().end());
  WindowGeometry geom;
  if (Status s = ResolveWindow(ctx, in_dims, kernel, false, &geom); !s.ok()) return s;
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ConvTyped<T>(ctx, *x, *w, b, geom, group);
  });
}

namespace {
std::optional<Dims> ConvShape(InferContext& ctx) { return WindowShape(ctx, true); }

constexpr OpDef kOps[] = {
    {"Conv", Conv, ConvShape},
};

}  // namespace

std::span<const OpDef> ConvOps() { return kOps; }

}  // namespace supernova::ops
