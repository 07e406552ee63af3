// Resize (opsets 10-17) and Upsample (opsets 7-9): nearest, n-linear and cubic resampling.
//
// Every resampling mode is separable, so each axis is described by a table giving, for every
// output position, a few input indices and weights ("taps": 1 nearest, 2 linear, 4 cubic).
// Axes whose table is the identity are skipped. Nearest gathers through the tables directly;
// linear and cubic run one 1-D pass per resized axis, with a per-plane fast path when only the
// last two axes change (NCHW feature maps), which keeps the intermediate rows in cache.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "providers/cpu/dispatch.h"
#include "providers/cpu/ops/ops.h"

namespace supernova::cpu::ops {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class CoordMode {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
};
// kSimple is the rounding of Upsample and Resize-10, which predate nearest_mode: truncate
// when enlarging, round up when shrinking.
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeParams {
  Mode mode = Mode::kNearest;
  CoordMode coord = CoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
  std::vector<double> scales;  // per axis
  // Per axis, the "resized length" that align_corners and tf_crop_and_resize divide by. With
  // scales it stays fractional (input length * scale), as in ONNX's reference: downscaling 4
  // by 0.6 divides by 2.4 - 1, not by the 2 - 1 of the floored output length.
  std::vector<double> out_extent;
  std::vector<double> roi;  // 2 * rank (starts then ends); only for tf_crop_and_resize
  Shape out_shape;
};

// One axis: for each output position `taps` clamped input indices and their weights.
struct AxisMap {
  int taps = 1;
  std::vector<int64_t> index;    // out_len * taps
  std::vector<double> weight;    // out_len * taps
  std::vector<uint8_t> outside;  // out_len: 1 where tf_crop_and_resize extrapolates
  bool any_outside = false;
  bool identity = false;
};

double SourceCoord(const ResizeParams& p, size_t axis, int64_t x_resized, int64_t in_len) {
  const double x = static_cast<double>(x_resized);
  const double scale = p.scales[axis];
  const double out_len = p.out_extent[axis];
  const double in_last = static_cast<double>(in_len - 1);
  switch (p.coord) {
    case CoordMode::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case CoordMode::kPytorchHalfPixel:
      return out_len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CoordMode::kAlignCorners:
      return out_len > 1 ? x * in_last / (out_len - 1) : 0.0;
    case CoordMode::kAsymmetric:
      return x / scale;
    case CoordMode::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
    case CoordMode::kTfCropAndResize: {
      const size_t rank = p.roi.size() / 2;
      const double start = p.roi[axis], end = p.roi[rank + axis];
      if (out_len > 1) return start * in_last + x * (end - start) * in_last / (out_len - 1);
      return 0.5 * (start + end) * in_last;
    }
  }
  return 0;
}

int64_t NearestIndex(double x, NearestMode mode, bool shrinking) {
  const double fl = std::floor(x);
  const double frac = x - fl;
  const auto f = static_cast<int64_t>(fl);
  if (frac == 0) return f;
  switch (mode) {
    case NearestMode::kRoundPreferFloor:
      return frac <= 0.5 ? f : f + 1;
    case NearestMode::kRoundPreferCeil:
      return frac < 0.5 ? f : f + 1;
    case NearestMode::kFloor:
      return f;
    case NearestMode::kCeil:
      return f + 1;
    case NearestMode::kSimple:
      return shrinking ? f + 1 : f;
  }
  return f;
}

// Keys cubic convolution weight for a tap at distance d from the sample point.
double CubicWeight(double d, double a) {
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

AxisMap BuildAxisMap(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len) {
  AxisMap m;
  m.taps = p.mode == Mode::kNearest ? 1 : p.mode == Mode::kLinear ? 2 : 4;
  const size_t n = static_cast<size_t>(out_len) * m.taps;
  m.index.assign(n, 0);
  m.weight.assign(n, 0.0);
  m.outside.assign(static_cast<size_t>(out_len), 0);
  const auto clamp = [&](int64_t i) { return std::clamp<int64_t>(i, 0, in_len - 1); };
  const bool shrinking = p.scales[axis] < 1;
  for (int64_t o = 0; o < out_len; ++o) {
    double x = SourceCoord(p, axis, o, in_len);
    int64_t* idx = &m.index[o * m.taps];
    double* w = &m.weight[o * m.taps];
    if (p.coord == CoordMode::kTfCropAndResize && (x < 0 || x > static_cast<double>(in_len - 1))) {
      m.outside[o] = 1;
      m.any_outside = true;
      continue;
    }
    // Every tap beyond the edges clamps to an edge sample, so clamping the coordinate a little
    // outside the axis changes nothing and keeps the integer conversions in range.
    x = std::clamp(x, -4.0, static_cast<double>(in_len) + 4.0);
    if (p.mode == Mode::kNearest) {
      idx[0] = clamp(NearestIndex(x, p.nearest, shrinking));
      w[0] = 1;
      continue;
    }
    const double fl = std::floor(x);
    const double r = x - fl;
    const auto i0 = static_cast<int64_t>(fl);
    if (p.mode == Mode::kLinear) {
      idx[0] = clamp(i0);
      idx[1] = clamp(i0 + 1);
      w[0] = 1 - r;
      w[1] = r;
      continue;
    }
    double sum = 0;
    for (int t = 0; t < 4; ++t) {
      const int64_t i = i0 - 1 + t;
      w[t] = CubicWeight(r - (t - 1), p.cubic_a);
      if (p.exclude_outside && (i < 0 || i >= in_len)) w[t] = 0;
      sum += w[t];
      idx[t] = clamp(i);
    }
    if (p.exclude_outside) {
      if (sum != 0) {
        for (int t = 0; t < 4; ++t) w[t] /= sum;
      } else {  // every tap fell outside: take the nearest sample rather than divide by zero
        for (int t = 0; t < 4; ++t) w[t] = 0;
        w[1] = 1;
        idx[1] = clamp(static_cast<int64_t>(std::lround(x)));
      }
    }
  }
  m.identity = out_len == in_len && !m.any_outside;
  for (int64_t o = 0; o < out_len && m.identity; ++o) {
    for (int t = 0; t < m.taps; ++t) {
      const double w = m.weight[o * m.taps + t];
      const bool same = m.index[o * m.taps + t] == o;
      if (w != 0 && !(same && w == 1)) m.identity = false;
    }
  }
  return m;
}

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
  if (m.taps == 2) return ResampleRow<2>(in, out, m, w, extrap, out_len);
  if (m.taps == 4) return ResampleRow<4>(in, out, m, w, extrap, out_len);
  ResampleRow<1>(in, out, m, w, extrap, out_len);
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
  Tensor& y = ctx.Output(0, x.dtype(), p.out_shape);

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

Status ParseMode(KernelContext& ctx, const std::string& mode, ResizeParams& p) {
  if (mode == "nearest")
    p.mode = Mode::kNearest;
  else if (mode == "linear" || mode == "bilinear")
    p.mode = Mode::kLinear;
  else if (mode == "cubic")
    p.mode = Mode::kCubic;
  else
    return ctx.Unsupported("mode '" + mode + "' not supported");
  return Status::Ok();
}

// Reads `scales` (one per axis, > 0) into p and derives the output shape as floor(len*scale).
Status ScalesToShape(KernelContext& ctx, const Tensor& x, std::vector<double> scales,
                     ResizeParams& p) {
  const size_t rank = x.rank();
  if (scales.size() != rank)
    return ctx.Error("scales has " + std::to_string(scales.size()) +
                     " values, expected one per input axis (" + std::to_string(rank) + ")");
  p.out_shape.assign(rank, 0);
  p.out_extent.assign(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    const double s = scales[d];
    if (!(s > 0) || !std::isfinite(s))
      return ctx.Error("scales[" + std::to_string(d) + "] must be a positive finite number");
    double extent = static_cast<double>(x.dim(d)) * s;
    if (p.coord == CoordMode::kTfCropAndResize && p.roi.size() == 2 * rank)
      extent *= p.roi[rank + d] - p.roi[d];
    if (extent > 1e12) return ctx.Error("output axis " + std::to_string(d) + " is too large");
    p.out_extent[d] = extent;
    p.out_shape[d] = static_cast<int64_t>(std::floor(std::max(extent, 0.0)));
  }
  p.scales = std::move(scales);
  return Status::Ok();
}

Status CheckOutputSize(KernelContext& ctx, const Shape& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(d);
  if (n > 4e12) return ctx.Error("output " + ShapeToString(shape) + " is too large");
  return Status::Ok();
}

}  // namespace

Status Resize(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  const size_t rank = x->rank();
  ResizeParams p;
  SN_RETURN_IF_ERROR(ParseMode(ctx, ctx.node.AttrString("mode", "nearest"), p));
  if (ctx.node.AttrInt("antialias", 0) != 0) return ctx.Unsupported("antialias not supported");
  if (ctx.node.HasAttr("axes")) return ctx.Unsupported("the axes attribute is not supported");

  if (ctx.opset < 11) {
    // Resize-10: scales only, and Upsample's coordinates and rounding.
    if (p.mode == Mode::kCubic) return ctx.Error("cubic mode needs opset 11 or later");
    p.coord = CoordMode::kAsymmetric;
    p.nearest = NearestMode::kSimple;
    const Tensor* scales = ctx.input(1);
    if (!scales) return ctx.Error("missing input scales");
    std::vector<double> s(static_cast<size_t>(scales->numel()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = scales->GetAsDouble(static_cast<int64_t>(i));
    SN_RETURN_IF_ERROR(ScalesToShape(ctx, *x, std::move(s), p));
    SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
    return RunResize(ctx, *x, p);
  }

  const std::string coord = ctx.node.AttrString("coordinate_transformation_mode", "half_pixel");
  if (coord == "half_pixel")
    p.coord = CoordMode::kHalfPixel;
  else if (coord == "pytorch_half_pixel")
    p.coord = CoordMode::kPytorchHalfPixel;
  else if (coord == "align_corners")
    p.coord = CoordMode::kAlignCorners;
  else if (coord == "asymmetric")
    p.coord = CoordMode::kAsymmetric;
  else if (coord == "tf_half_pixel_for_nn")
    p.coord = CoordMode::kTfHalfPixelForNn;
  else if (coord == "tf_crop_and_resize")
    p.coord = CoordMode::kTfCropAndResize;
  else
    return ctx.Unsupported("coordinate_transformation_mode '" + coord + "' not supported");
  const std::string nearest = ctx.node.AttrString("nearest_mode", "round_prefer_floor");
  if (nearest == "round_prefer_floor")
    p.nearest = NearestMode::kRoundPreferFloor;
  else if (nearest == "round_prefer_ceil")
    p.nearest = NearestMode::kRoundPreferCeil;
  else if (nearest == "floor")
    p.nearest = NearestMode::kFloor;
  else if (nearest == "ceil")
    p.nearest = NearestMode::kCeil;
  else
    return ctx.Unsupported("nearest_mode '" + nearest + "' not supported");
  p.cubic_a = ctx.node.AttrFloat("cubic_coeff_a", -0.75f);
  p.exclude_outside = ctx.node.AttrInt("exclude_outside", 0) != 0;
  p.extrapolation = ctx.node.AttrFloat("extrapolation_value", 0.0f);
  const std::string policy = ctx.node.AttrString("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch")
    return ctx.Unsupported("keep_aspect_ratio_policy '" + policy + "' not supported");

  if (p.coord == CoordMode::kTfCropAndResize) {
    const Tensor* roi = ctx.input(1);
    if (!roi || roi->numel() != static_cast<int64_t>(2 * rank))
      return ctx.Error("tf_crop_and_resize needs roi with 2 * rank (" + std::to_string(2 * rank) +
                       ") values");
    p.roi.resize(2 * rank);
    for (size_t i = 0; i < p.roi.size(); ++i) {
      p.roi[i] = roi->GetAsDouble(static_cast<int64_t>(i));
      if (!std::isfinite(p.roi[i])) return ctx.Error("roi values must be finite");
    }
  }

  const Tensor* scales = ctx.input(2);
  const Tensor* sizes = ctx.input(3);
  const bool has_scales = scales && scales->numel() > 0;
  const bool has_sizes = sizes && sizes->numel() > 0;
  if (has_scales && has_sizes) return ctx.Error("only one of scales and sizes may be given");
  if (has_scales) {
    if (scales->dtype() != DataType::kFloat32 && scales->dtype() != DataType::kFloat64 &&
        scales->dtype() != DataType::kFloat16)
      return ctx.Error("scales must be a float tensor, got " + DataTypeName(scales->dtype()));
    std::vector<double> s(static_cast<size_t>(scales->numel()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = scales->GetAsDouble(static_cast<int64_t>(i));
    SN_RETURN_IF_ERROR(ScalesToShape(ctx, *x, std::move(s), p));
  } else if (has_sizes) {
    if (sizes->dtype() != DataType::kInt64)
      return ctx.Error("sizes must be int64, got " + DataTypeName(sizes->dtype()));
    if (sizes->numel() != static_cast<int64_t>(rank))
      return ctx.Error("sizes has " + std::to_string(sizes->numel()) +
                       " values, expected one per input axis (" + std::to_string(rank) + ")");
    p.out_shape.resize(rank);
    p.out_extent.resize(rank);
    p.scales.resize(rank);
    for (size_t d = 0; d < rank; ++d) {
      const int64_t n = sizes->data<int64_t>()[d];
      if (n < 0) return ctx.Error("sizes[" + std::to_string(d) + "] is negative");
      p.out_shape[d] = n;
      p.out_extent[d] = static_cast<double>(n);
      // An empty input axis has no meaningful scale; 1 keeps the formulas finite.
      p.scales[d] =
          x->dim(d) > 0 && n > 0 ? static_cast<double>(n) / static_cast<double>(x->dim(d)) : 1.0;
    }
  } else {
    return ctx.Error("one of scales and sizes must be given");
  }
  SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
  return RunResize(ctx, *x, p);
}

Status Upsample(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input X");
  ResizeParams p;
  SN_RETURN_IF_ERROR(ParseMode(ctx, ctx.node.AttrString("mode", "nearest"), p));
  if (p.mode == Mode::kCubic) return ctx.Unsupported("Upsample has no cubic mode");
  p.coord = CoordMode::kAsymmetric;
  p.nearest = NearestMode::kSimple;
  std::vector<double> s;
  if (ctx.opset < 9) {
    if (!ctx.node.HasAttr("scales")) return ctx.Error("missing attribute scales");
    for (float v : ctx.node.AttrFloats("scales")) s.push_back(v);
  } else {
    const Tensor* scales = ctx.input(1);
    if (!scales) return ctx.Error("missing input scales");
    s.resize(static_cast<size_t>(scales->numel()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = scales->GetAsDouble(static_cast<int64_t>(i));
  }
  SN_RETURN_IF_ERROR(ScalesToShape(ctx, *x, std::move(s), p));
  SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
  return RunResize(ctx, *x, p);
}

}  // namespace supernova::cpu::ops
