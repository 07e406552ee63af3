// ConvTranspose (opsets 1-17): the gradient of Conv with respect to its input.
//
// Per image and group, one GEMM forms col = W_g^T * X_g (a row per output channel and kernel
// tap, a column per input position), and col2im scatter-adds every column into the output
// positions it reaches. Input rows are processed in bands to bound the col buffer; the
// scatter is parallel over output channels, which write disjoint planes.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "ops/dense_gemm.h"
#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/spatial.h"

namespace supernova::ops {
namespace {

constexpr int64_t kColBudget = int64_t{1} << 21;

// Geometry of a transposed convolution: `in` is the input (the small side) and `out` the
// output; pads may be negative when output_shape asks for more than the natural size.
struct TransposeGeometry {
  std::vector<int64_t> in, out, kernel, strides, dilations, pad_begin;
  size_t rank() const { return in.size(); }
};

Status ResolveTranspose(const KernelContext& ctx, const std::vector<int64_t>& in,
                        const std::vector<int64_t>& kernel, TransposeGeometry* g) {
  const ir::Node& node = ctx.node;
  const size_t d = in.size();
  g->in = in;
  g->kernel = kernel;
  g->strides = node.AttrInts("strides", std::vector<int64_t>(d, 1));
  g->dilations = node.AttrInts("dilations", std::vector<int64_t>(d, 1));
  std::vector<int64_t> out_pad = node.AttrInts("output_padding", std::vector<int64_t>(d, 0));
  if (g->strides.size() != d || g->dilations.size() != d || out_pad.size() != d)
    return ctx.Error("strides, dilations and output_padding need one value per spatial axis");
  for (size_t i = 0; i < d; ++i) {
    if (g->strides[i] <= 0 || g->dilations[i] <= 0)
      return ctx.Error("strides and dilations must be positive");
    if (out_pad[i] < 0) return ctx.Error("output_padding must be non-negative");
  }
  std::string auto_pad = node.AttrString("auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    return ctx.Error("unknown auto_pad '" + auto_pad + "'");
  // Size of the output before any padding is cropped.
  std::vector<int64_t> full(d);
  for (size_t i = 0; i < d; ++i)
    full[i] = g->strides[i] * (in[i] - 1) + out_pad[i] + (kernel[i] - 1) * g->dilations[i] + 1;
  g->out.assign(d, 0);
  g->pad_begin.assign(d, 0);
  std::vector<int64_t> target;
  if (node.HasAttr("output_shape")) {
    target = node.AttrInts("output_shape");
    if (target.size() == d + 2) target.erase(target.begin(), target.begin() + 2);
    if (target.size() != d) return ctx.Error("output_shape needs one value per spatial axis");
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    target.resize(d);
    for (size_t i = 0; i < d; ++i) target[i] = in[i] * g->strides[i];
  }
  if (!target.empty()) {
    for (size_t i = 0; i < d; ++i) {
      if (target[i] <= 0) return ctx.Error("output_shape must be positive");
      const int64_t total = full[i] - target[i];
      // The odd padding element is cropped from the end for SAME_UPPER, the start otherwise.
      // Halving rounds down (as the spec's reference does): a negative total, from an
      // output_shape larger than the natural size, grows the end.
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      g->pad_begin[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      g->out[i] = target[i];
    }
    return Status::Ok();
  }
  std::vector<int64_t> pads(2 * d, 0);
  if (auto_pad == "NOTSET") pads = node.AttrInts("pads", pads);
  if (pads.size() != 2 * d) return ctx.Error("pads must have two values per spatial axis");
  for (size_t i = 0; i < d; ++i) {
    if (pads[i] < 0 || pads[i + d] < 0) return ctx.Error("pads must be non-negative");
    g->pad_begin[i] = pads[i];
    g->out[i] = full[i] - pads[i] - pads[i + d];
    if (g->out[i] <= 0) return ctx.Error("pads leave an empty output");
  }
  return Status::Ok();
}

// Adds col rows (m, k_0..k_{d-1}) x input positions of input rows [row0, row1) along axis 0
// into the output planes of channels [0, channels); y planes are pre-initialised.
template <typename T>
void Col2Im(const T* col, int64_t channels, const TransposeGeometry& g, int64_t row0, int64_t row1,
            T* y, int threads) {
  const size_t d = g.rank();
  const int64_t kprod = Product(g.kernel);
  const int64_t out_plane = Product(g.out);
  const int64_t iw_n = g.in[d - 1], ow_n = g.out[d - 1], sw = g.strides[d - 1];
  const int64_t lines = (row1 - row0) * (Product(g.in, 1) / iw_n);
  const int64_t cols = lines * iw_n;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && channels > 1)
  for (int64_t m = 0; m < channels; ++m) {
    T* ym = y + m * out_plane;
    for (int64_t kk = 0; kk < kprod; ++kk) {
      int64_t kidx[8];
      int64_t rem = kk;
      for (size_t t = d; t-- > 0;) {
        kidx[t] = rem % g.kernel[t];
        rem /= g.kernel[t];
      }
      const int64_t w_off = kidx[d - 1] * g.dilations[d - 1] - g.pad_begin[d - 1];
      int64_t lo, hi;
      ValidRange(w_off, sw, ow_n, iw_n, &lo, &hi);
      const T* src_row = col + (m * kprod + kk) * cols;
      int64_t i[8];
      i[0] = row0;
      for (size_t t = 1; t + 1 < d; ++t) i[t] = 0;
      for (int64_t l = 0; l < lines; ++l) {
        int64_t off = 0;
        bool valid = true;
        for (size_t t = 0; t + 1 < d; ++t) {
          const int64_t o = i[t] * g.strides[t] - g.pad_begin[t] + kidx[t] * g.dilations[t];
          if (o < 0 || o >= g.out[t]) {
            valid = false;
            break;
          }
          off = off * g.out[t] + o;
        }
        if (valid) {
          const T* src = src_row + l * iw_n;
          T* dst = ym + off * ow_n;
          for (int64_t iw = lo; iw < hi; ++iw) dst[iw * sw + w_off] += src[iw];
        }
        for (size_t t = d - 1; t-- > 0;) {
          if (++i[t] < g.in[t] || t == 0) break;
          i[t] = 0;
        }
      }
    }
  }
}

template <typename T>
Status ConvTransposeTyped(KernelContext& ctx, const Tensor& xt, const Tensor& wt, const Tensor* bt,
                          TransposeGeometry g, int64_t group) {
  const int64_t n_batch = xt.dim(0), c_in = xt.dim(1);
  const int64_t cg = c_in / group, mg = wt.dim(1), m_out = mg * group;
  Shape yshape = {n_batch, m_out};
  for (int64_t o : g.out) yshape.push_back(o);
  Tensor& yt = ctx.Output(0, xt.dtype(), yshape);
  if (yt.numel() == 0) return Status::Ok();
  // 1-D runs as 2-D with a unit leading axis.
  if (g.rank() == 1) {
    for (auto* v : {&g.in, &g.out, &g.kernel, &g.strides, &g.dilations}) v->insert(v->begin(), 1);
    g.pad_begin.insert(g.pad_begin.begin(), 0);
  }
  const int64_t kprod = Product(g.kernel);
  const int64_t in_size = Product(g.in), out_size = Product(g.out);
  const int64_t rows = mg * kprod;
  const T* x = xt.data<T>();
  const T* w = wt.data<T>();
  const T* bias = bt ? bt->data<T>() : nullptr;
  T* y = yt.data<T>();
  const int threads = std::max(1, ctx.num_threads);

  for (int64_t p = 0; p < n_batch * m_out; ++p) {
    T* yp = y + p * out_size;
    std::fill(yp, yp + out_size, bias ? bias[p % m_out] : T(0));
  }
  if (in_size == 0 || cg == 0) return Status::Ok();
  const int64_t row_in = in_size / g.in[0];
  const int64_t band =
      std::clamp<int64_t>(kColBudget / std::max<int64_t>(1, rows * row_in), 1, g.in[0]);
  std::unique_ptr<T[]> col(new T[rows * band * row_in]);
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t grp = 0; grp < group; ++grp) {
      const T* xg = x + (n * c_in + grp * cg) * in_size;
      const T* wg = w + grp * cg * rows;
      T* yg = y + (n * m_out + grp * mg) * out_size;
      for (int64_t r0 = 0; r0 < g.in[0]; r0 += band) {
        const int64_t r1 = std::min(g.in[0], r0 + band);
        const int64_t cols = (r1 - r0) * row_in;
        DenseGemm<T>(true, false, rows, cols, cg, T(1), wg, rows, xg + r0 * row_in, in_size, T(0),
                     col.get(), cols, threads);
        Col2Im(col.get(), mg, g, r0, r1, yg, threads);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ConvTranspose(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* b = ctx.input(2);
  int64_t group = 1;
  SN_RETURN_IF_ERROR(CheckConvOperands(ctx, x, w, b, &group));
  if (w->dim(0) != x->dim(1))
    return ctx.Error("W " + ShapeToString(w->shape()) + " does not match X " +
                     ShapeToString(x->shape()));
  const int64_t m_out = w->dim(1) * group;
  SN_RETURN_IF_ERROR(CheckConvBias(ctx, b, m_out));
  std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
  for (int64_t k : kernel)
    if (k <= 0) return ctx.Error("W has an empty kernel " + ShapeToString(w->shape()));
  if (ctx.node.HasAttr("kernel_shape") && ctx.node.AttrInts("kernel_shape") != kernel)
    return ctx.Error("kernel_shape attribute does not match W " + ShapeToString(w->shape()));
  std::vector<int64_t> in_dims(x->shape().begin() + 2, x->shape().end());
  TransposeGeometry g;
  if (Status s = ResolveTranspose(ctx, in_dims, kernel, &g); !s.ok()) return s;
  return DispatchFloat(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ConvTransposeTyped<T>(ctx, *x, *w, b, g, group);
  });
}

namespace {
std::optional<Dims> ConvTransposeShape(InferContext& ctx) {
  const ir::Node& n = ctx.node;
  if (!ctx.in(0).has_rank() || !ctx.in(1).has_rank()) return std::nullopt;
  const Dims &x = ctx.in(0).dims(), &w = ctx.in(1).dims();
  if (x.size() < 3 || w.size() != x.size()) return std::nullopt;
  const size_t sp = x.size() - 2;
  Dims out(x.size());
  out[0] = x[0];
  const int64_t group = n.AttrInt("group", 1);
  if (w[1].known()) out[1] = (DimMath(w[1].value) *= group).dim();
  const auto strides = n.AttrInts("strides", std::vector<int64_t>(sp, 1));
  const auto dil = n.AttrInts("dilations", std::vector<int64_t>(sp, 1));
  const auto pads = n.AttrInts("pads", std::vector<int64_t>(2 * sp, 0));
  const auto opad = n.AttrInts("output_padding", std::vector<int64_t>(sp, 0));
  const auto oshape = n.AttrInts("output_shape");
  const bool plain = n.AttrString("auto_pad", "NOTSET") == "NOTSET";
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || opad.size() != sp)
    return out;
  for (size_t i = 0; i < sp; ++i) {
    if (oshape.size() == sp) {
      out[2 + i] = ir::Dim::Known(oshape[i]);
    } else if (plain && x[2 + i].known() && w[2 + i].known()) {
      DimMath span(w[2 + i].value - 1);  // (k - 1) * dilation + 1
      span *= dil[i];
      span += 1;
      DimMath d(x[2 + i].value - 1);  // stride * (in - 1) + output_padding + span - pads
      d *= strides[i];
      d += opad[i];
      d += span.v;
      d -= pads[i];
      d -= pads[i + sp];
      out[2 + i] = span.ok ? d.dim() : ir::Dim{};
    }
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"ConvTranspose", ConvTranspose, ConvTransposeShape},
};

}  // namespace

std::span<const OpDef> ConvTransposeOps() { return kOps; }

}  // namespace supernova::ops
