// Resize (opsets 10-17) and Upsample (opsets 7-9): nearest, n-linear and cubic resampling.
//
// Every resampling mode is separable, so each axis is described by a table giving, for every
// output position, a few input indices and weights ("taps": 1 nearest, 2 linear, 4 cubic; see
// resampling.h). Axes whose table is the identity are skipped. Nearest gathers through the tables
// directly; linear and cubic run one 1-D pass per resized axis, with a per-plane fast path when
// only the last two axes change (NCHW feature maps), which keeps the intermediate rows in cache.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/dispatch.h"
#include "ops/op.h"
#include "ops/resampling.h"

namespace supernova::ops {
namespace {

using resampling::AxisMap;
using resampling::AxisMapBytes;
using resampling::BuildAxisMap;
using resampling::Mode;
using resampling::ResizeParams;

// Converts an interpolated value to the element type; integers round to nearest and
// saturate (a NaN from a NaN cubic_coeff_a becomes 0 rather than undefined behaviour).
template <typename T, typename Acc>
inline T StoreAs(Acc v) {
  if constexpr (std::is_integral_v<T>) {
    if (!(v == v)) return T{0};
    v = std::nearbyint(v);
    if (v <= static_cast<Acc>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    if (v >= static_cast<Acc>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

// ---- nearest: a pure gather through the per-axis index tables ----

template <typename T>
void NearestResize(const Tensor& x, Tensor& y, const std::vector<AxisMap>& maps, T extrap,
                   int num_threads) {
  const size_t rank = x.rank();
  const T* src = x.data<T>();
  T* dst = y.data<T>();
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  // offsets[d][o]: the input offset contributed by output position o of axis d (-1 outside).
  std::vector<std::vector<int64_t>> offsets(rank);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    const AxisMap& m = maps[d];
    const int64_t out_len = y.dim(d);
    offsets[d].resize(static_cast<size_t>(out_len));
    for (int64_t o = 0; o < out_len; ++o) offsets[d][o] = m.outside[o] ? -1 : m.index[o] * stride;
    stride *= x.dim(d);
  }
  const int64_t width = y.dim(rank - 1);
  const int64_t rows = y.numel() / width;
  const std::vector<int64_t>& last = offsets[rank - 1];
  const bool last_outside = maps[rank - 1].any_outside;
  const auto fill_row = [&](int64_t row) {
    int64_t base = 0;
    bool outside = false;
    int64_t rest = row;
    for (size_t d = rank - 1; d-- > 0;) {
      const int64_t c = rest % y.dim(d);
      rest /= y.dim(d);
      const int64_t off = offsets[d][c];
      if (off < 0) outside = true;
      base += off;
    }
    T* out = dst + row * width;
    if (outside) {
      std::fill(out, out + width, extrap);
      return;
    }
    const T* in = src + base;
    if (last_outside) {
      for (int64_t i = 0; i < width; ++i) out[i] = last[i] < 0 ? extrap : in[last[i]];
    } else {
      for (int64_t i = 0; i < width; ++i) out[i] = in[last[i]];
    }
  };
  // Enlarging repeats whole rows; when threads own whole planes a repeated row is a copy of
  // the one above it.
  const int64_t height = rank >= 2 ? y.dim(rank - 2) : 1;
  const int64_t planes = rows / height;
  const bool parallel = y.numel() > 32768;
  if (rank >= 2 && (planes >= 4 * num_threads || num_threads == 1 || !parallel)) {
    const std::vector<int64_t>& col = offsets[rank - 2];
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t r = 0; r < height; ++r) {
        const int64_t row = p * height + r;
        if (r > 0 && col[r] == col[r - 1]) {
          std::memcpy(dst + row * width, dst + (row - 1) * width, sizeof(T) * width);
        } else {
          fill_row(row);
        }
      }
    }
  } else {
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
    for (int64_t row = 0; row < rows; ++row) fill_row(row);
  }
}

// ---- linear and cubic ----

// Resamples one row along its own (contiguous) axis: out[o] = sum_t w * in[idx].
template <int kTaps, typename In, typename Acc>
void ResampleRow(const In* in, Acc* out, const AxisMap& m, const std::vector<Acc>& w, Acc extrap,
                 int64_t out_len) {
  const int64_t* idx = m.index.data();
  const Acc* wt = w.data();
  for (int64_t o = 0; o < out_len; ++o) {
    Acc s = 0;
    for (int t = 0; t < kTaps; ++t)
      s += wt[o * kTaps + t] * static_cast<Acc>(in[idx[o * kTaps + t]]);
    out[o] = s;
  }
  if (m.any_outside)
    for (int64_t o = 0; o < out_len; ++o)
      if (m.outside[o]) out[o] = extrap;
}

template <typename In, typename Acc>
void ResampleRowAny(const In* in, Acc* out, const AxisMap& m, const std::vector<Acc>& w, Acc extrap,
                    int64_t out_len) {
  if (m.taps == 1) return ResampleRow<1>(in, out, m, w, extrap, out_len);
  if (m.taps == 2) return ResampleRow<2>(in, out, m, w, extrap, out_len);
  if (m.taps == 4) return ResampleRow<4>(in, out, m, w, extrap, out_len);
  // Antialiased shrinking: as many taps as the stretched filter covers.
  for (int64_t o = 0; o < out_len; ++o) {
    Acc acc = 0;
    for (int t = 0; t < m.taps; ++t)
      acc += w[o * m.taps + t] * static_cast<Acc>(in[m.index[o * m.taps + t]]);
    out[o] = m.any_outside && m.outside[o] ? extrap : acc;
  }
}

template <typename Acc>
std::vector<Acc> WeightsAs(const AxisMap& m) {
  return std::vector<Acc>(m.weight.begin(), m.weight.end());
}

// out[i] = sum over the taps of output position `o` of weight * rows[index][i], for rows of
// `stride` elements: the vertical step, vectorisable along i.
template <typename T, typename Acc>
void BlendRows(const Acc* rows, int64_t stride, const AxisMap& m, const std::vector<Acc>& w,
               int64_t o, T* out, int64_t n) {
  if (m.taps > 4) {  // antialiased shrinking: a running sum over every tap
    std::vector<Acc> acc(static_cast<size_t>(n), Acc{0});
    for (int t = 0; t < m.taps; ++t) {
      const Acc v = w[o * m.taps + t];
      if (v == 0) continue;
      const Acc* row = rows + m.index[o * m.taps + t] * stride;
      for (int64_t i = 0; i < n; ++i) acc[i] += v * row[i];
    }
    for (int64_t i = 0; i < n; ++i) out[i] = StoreAs<T>(acc[i]);
    return;
  }
  const Acc* r[4];
  Acc wt[4];
  int k = 0;
  for (int t = 0; t < m.taps; ++t) {
    const Acc v = w[o * m.taps + t];
    if (v == 0) continue;
    r[k] = rows + m.index[o * m.taps + t] * stride;
    wt[k++] = v;
  }
  switch (k) {
    case 0:
      std::fill(out, out + n, StoreAs<T>(Acc{0}));
      break;
    case 1:
      for (int64_t i = 0; i < n; ++i) out[i] = StoreAs<T>(wt[0] * r[0][i]);
      break;
    case 2:
      for (int64_t i = 0; i < n; ++i) out[i] = StoreAs<T>(wt[0] * r[0][i] + wt[1] * r[1][i]);
      break;
    case 3:
      for (int64_t i = 0; i < n; ++i)
        out[i] = StoreAs<T>(wt[0] * r[0][i] + wt[1] * r[1][i] + wt[2] * r[2][i]);
      break;
    default:
      for (int64_t i = 0; i < n; ++i)
        out[i] = StoreAs<T>(wt[0] * r[0][i] + wt[1] * r[1][i] + wt[2] * r[2][i] + wt[3] * r[3][i]);
      break;
  }
}

// Only the last two axes change: each [H, W] plane is resampled on its own, horizontally into
// a per-thread buffer of the input rows that are needed, then vertically into the output.
template <typename T, typename Acc>
void PlaneResize(const Tensor& x, Tensor& y, const AxisMap& mh, const AxisMap& mw, Acc extrap,
                 int num_threads) {
  const size_t rank = x.rank();
  const int64_t h_in = rank >= 2 ? x.dim(rank - 2) : 1;
  const int64_t w_in = x.dim(rank - 1);
  const int64_t h_out = rank >= 2 ? y.dim(rank - 2) : 1;
  const int64_t w_out = y.dim(rank - 1);
  const int64_t planes = x.numel() / std::max<int64_t>(1, h_in * w_in);
  const std::vector<Acc> wh = WeightsAs<Acc>(mh), ww = WeightsAs<Acc>(mw);
  std::vector<uint8_t> needed(static_cast<size_t>(h_in), mh.identity ? 1 : 0);
  if (!mh.identity)
    for (size_t i = 0; i < mh.index.size(); ++i)
      if (mh.weight[i] != 0) needed[mh.index[i]] = 1;
  const T* src = x.data<T>();
  T* dst = y.data<T>();
  const auto horizontal = [&](const T* in, Acc* rows, int64_t r) {
    if (!needed[r]) return;
    Acc* row = rows + r * w_out;
    if (mw.identity) {
      for (int64_t i = 0; i < w_in; ++i) row[i] = static_cast<Acc>(in[r * w_in + i]);
    } else {
      ResampleRowAny(in + r * w_in, row, mw, ww, extrap, w_out);
    }
  };
  const auto vertical = [&](const Acc* rows, T* out, int64_t oy) {
    T* o_row = out + oy * w_out;
    if (mh.identity) {
      const Acc* row = rows + oy * w_out;
      for (int64_t i = 0; i < w_out; ++i) o_row[i] = StoreAs<T>(row[i]);
    } else if (mh.outside[oy]) {
      std::fill(o_row, o_row + w_out, StoreAs<T>(extrap));
    } else {
      BlendRows<T>(rows, w_out, mh, wh, oy, o_row, w_out);
    }
  };
  const bool parallel = num_threads > 1 && y.numel() > 16384;
  if (!parallel || planes >= num_threads) {
#pragma omp parallel num_threads(num_threads) if (parallel)
    {
      std::vector<Acc> rows(static_cast<size_t>(h_in * w_out));
#pragma omp for schedule(static)
      for (int64_t p = 0; p < planes; ++p) {
        const T* in = src + p * h_in * w_in;
        T* out = dst + p * h_out * w_out;
        for (int64_t r = 0; r < h_in; ++r) horizontal(in, rows.data(), r);
        for (int64_t oy = 0; oy < h_out; ++oy) vertical(rows.data(), out, oy);
      }
    }
  } else {
    // Too few planes to occupy the threads (one large image): split each plane by rows.
    std::vector<Acc> rows(static_cast<size_t>(h_in * w_out));
    for (int64_t p = 0; p < planes; ++p) {
      const T* in = src + p * h_in * w_in;
      T* out = dst + p * h_out * w_out;
#pragma omp parallel for num_threads(num_threads) schedule(static)
      for (int64_t r = 0; r < h_in; ++r) horizontal(in, rows.data(), r);
#pragma omp parallel for num_threads(num_threads) schedule(static)
      for (int64_t oy = 0; oy < h_out; ++oy) vertical(rows.data(), out, oy);
    }
  }
}

// Any set of resized axes: one pass per axis over an intermediate buffer.
template <typename T, typename Acc>
void AxisByAxisResize(const Tensor& x, Tensor& y, const std::vector<AxisMap>& maps, Acc extrap,
                      int num_threads) {
  Shape shape = x.shape();
  std::vector<Acc> cur(static_cast<size_t>(x.numel()));
  const T* src = x.data<T>();
  for (size_t i = 0; i < cur.size(); ++i) cur[i] = static_cast<Acc>(src[i]);
  // Shrinking axes first keeps the intermediate buffers small.
  std::vector<size_t> order;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!maps[d].identity) order.push_back(d);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return static_cast<double>(y.dim(a)) / static_cast<double>(x.dim(a)) <
           static_cast<double>(y.dim(b)) / static_cast<double>(x.dim(b));
  });
  for (size_t d : order) {
    const AxisMap& m = maps[d];
    const std::vector<Acc> w = WeightsAs<Acc>(m);
    const int64_t in_len = shape[d], out_len = y.dim(d);
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < d; ++k) outer *= shape[k];
    for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
    std::vector<Acc> next(static_cast<size_t>(outer * out_len * inner));
    const bool parallel = next.size() > 32768;
    if (inner == 1) {  // the contiguous axis: one gathered row per outer index
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
      for (int64_t ob = 0; ob < outer; ++ob)
        ResampleRowAny(cur.data() + ob * in_len, next.data() + ob * out_len, m, w, extrap, out_len);
    } else {
      const int64_t lines = outer * out_len;
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
      for (int64_t line = 0; line < lines; ++line) {
        const int64_t ob = line / out_len, o = line % out_len;
        Acc* out = next.data() + line * inner;
        if (m.outside[o]) {
          std::fill(out, out + inner, extrap);
        } else {
          BlendRows<Acc>(cur.data() + ob * in_len * inner, inner, m, w, o, out, inner);
        }
      }
    }
    cur.swap(next);
    shape[d] = out_len;
  }
  T* dst = y.data<T>();
  for (size_t i = 0; i < cur.size(); ++i) dst[i] = StoreAs<T>(cur[i]);
}

size_t SaturatingAdd(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

Status RunResize(KernelContext& ctx, const Tensor& x, const ResizeParams& p) {
  const size_t rank = x.rank();
  for (size_t d = 0; d < rank; ++d)
    if (x.dim(d) == 0 && p.out_shape[d] != 0)
      return ctx.Error("cannot resize an empty axis " + std::to_string(d) + " to length " +
                       std::to_string(p.out_shape[d]));
  if (NumElements(p.out_shape) == 0) {
    ctx.Output(0, x.dtype(), p.out_shape);
    return Status::Ok();
  }
  // The output, then the scratch, are counted against the run's memory limit before any is
  // built: the model's scales or sizes choose both. (A Resize to the input's own shape may
  // hand the input through and need no output.)
  Tensor* out = p.out_shape == x.shape() ? nullptr : &ctx.Output(0, x.dtype(), p.out_shape);
  size_t scratch = 0;
  for (size_t d = 0; d < rank; ++d)
    scratch = SaturatingAdd(scratch, AxisMapBytes(p, d, x.dim(d), p.out_shape[d]));
  if (p.mode != Mode::kNearest) {  // AxisByAxisResize's two float or double buffers, at most
    const size_t acc = x.dtype() == DataType::kFloat64 ? 8 : 4;
    const auto most = static_cast<size_t>(std::max(x.numel(), NumElements(p.out_shape)));
    scratch = SaturatingAdd(scratch, most > (size_t{1} << 58) ? size_t{1} << 62 : 2 * acc * most);
  }
  const ScratchCharge charge = ctx.ChargeScratch(scratch);
  std::vector<AxisMap> maps(rank);
  bool identity = true;
  for (size_t d = 0; d < rank; ++d) {
    maps[d] = BuildAxisMap(p, d, x.dim(d), p.out_shape[d]);
    identity = identity && maps[d].identity;
  }
  // Exported graphs often carry Resize nodes with unit scales: hand the input through.
  if (identity) {
    ctx.SetOutput(0, x);
    return Status::Ok();
  }
  Tensor& y = out ? *out : ctx.Output(0, x.dtype(), p.out_shape);

  if (p.mode == Mode::kNearest) {
    const auto run = [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      NearestResize<T>(x, y, maps, StoreAs<T>(p.extrapolation), ctx.num_threads);
      return Status::Ok();
    };
    if (x.dtype() == DataType::kBool) return run(TypeTag<uint8_t>{});
    if (x.dtype() == DataType::kFloat16 || x.dtype() == DataType::kBFloat16) {
      const float e = static_cast<float>(p.extrapolation);
      const uint16_t bits = x.dtype() == DataType::kFloat16 ? Float16::FromFloat(e).bits
                                                            : BFloat16::FromFloat(e).bits;
      NearestResize<uint16_t>(x, y, maps, bits, ctx.num_threads);
      return Status::Ok();
    }
    Status st = DispatchNumeric(x.dtype(), run);
    return st.ok() ? st : ctx.Unsupported(st.message());
  }

  bool only_last_two = true;
  for (size_t d = 0; d + 2 < rank; ++d)
    if (!maps[d].identity) only_last_two = false;
  Status st = DispatchNumeric(x.dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const Acc extrap = static_cast<Acc>(p.extrapolation);
    if (rank == 0) {
      y.data<T>()[0] = x.data<T>()[0];
    } else if (only_last_two) {
      AxisMap unit;  // a height of one for 1-D inputs
      unit.index = {0};
      unit.weight = {1};
      unit.outside = {0};
      unit.identity = true;
      PlaneResize<T, Acc>(x, y, rank >= 2 ? maps[rank - 2] : unit, maps[rank - 1], extrap,
                          ctx.num_threads);
    } else {
      AxisByAxisResize<T, Acc>(x, y, maps, extrap, ctx.num_threads);
    }
    return Status::Ok();
  });
  return st.ok() ? st : ctx.Unsupported(st.message());
}

}  // namespace

Status Resize(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  ResizeParams p;
  SN_RETURN_IF_ERROR(resampling::ParseResize(ctx, x->shape(), &p));
  return RunResize(ctx, *x, p);
}

Status Upsample(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  ResizeParams p;
  SN_RETURN_IF_ERROR(resampling::ParseUpsample(ctx, x->shape(), &p));
  return RunResize(ctx, *x, p);
}

namespace {
std::optional<Dims> ResizeShape(InferContext& ctx) {
  const ir::Node& n = ctx.node;
  if (!ctx.in(0).has_rank()) return std::nullopt;
  const Dims& x = ctx.in(0).dims();
  const bool resize = n.op_type == "Resize";
  // Opset 18's axes and aspect-ratio policies: the output follows ParseResize at run time.
  if (resize &&
      (n.HasAttr("axes") || n.AttrString("keep_aspect_ratio_policy", "stretch") != "stretch"))
    return std::nullopt;
  if (resize && ctx.inputs.size() > 3) {
    if (auto sizes = ConstInts(ctx.in(3)); sizes && sizes->size() == x.size()) {
      Dims out;
      for (int64_t s : *sizes) out.push_back(ir::Dim::Known(s));
      return out;
    }
  }
  // The scales: Resize-10 and Upsample-9 take them as input 1, Resize-11 on as input 2.
  const InferInput* scales_in = nullptr;
  if (resize)
    scales_in = ctx.opset >= 11 ? &ctx.in(2) : &ctx.in(ctx.inputs.size() > 2 ? 2 : 1);
  else
    scales_in = &ctx.in(1);
  std::vector<float> scales = n.AttrFloats("scales");
  if (scales_in->constant && scales_in->constant->dtype() == DataType::kFloat32) {
    const Tensor& t = *scales_in->constant;
    scales.assign(t.data<float>(), t.data<float>() + t.numel());
  }
  if (scales.size() != x.size()) return std::nullopt;
  Dims out;
  for (size_t i = 0; i < x.size(); ++i) {
    // A scale that makes no countable size (NaN, negative, beyond 2^40) leaves the dim unknown:
    // the kernel refuses it when it runs, with the model's own numbers.
    const double d = x[i].known() ? std::floor(x[i].value * scales[i]) : -1;
    out.push_back(d >= 0 && d <= 0x1p40 ? ir::Dim::Known(static_cast<int64_t>(d)) : ir::Dim{});
  }
  return out;
}

constexpr OpDef kOps[] = {
    {"Resize", Resize, ResizeShape},
    {"Upsample", Upsample, ResizeShape},
};

}  // namespace

std::span<const OpDef> ResizeOps() { return kOps; }

}  // namespace supernova::ops
