// Resize's sampling: ONNX's coordinate modes and rounding as per-axis tap tables, and the
// channels-last resampling the oneDNN regions run.
#include "ops/resampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <string>

namespace supernova::ops::resampling {
namespace {

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

Status ParseMode(const KernelContext& ctx, const std::string& mode, ResizeParams& p) {
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
Status ScalesToShape(const KernelContext& ctx, const Shape& x, std::vector<double> scales,
                     ResizeParams& p) {
  const size_t rank = x.size();
  if (scales.size() != rank)
    return ctx.Error("scales has " + std::to_string(scales.size()) +
                     " values, expected one per input axis (" + std::to_string(rank) + ")");
  p.out_shape.assign(rank, 0);
  p.out_extent.assign(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    const double s = scales[d];
    if (!(s > 0) || !std::isfinite(s))
      return ctx.Error("scales[" + std::to_string(d) + "] must be a positive finite number");
    double extent = static_cast<double>(x[d]) * s;
    if (p.coord == CoordMode::kTfCropAndResize && p.roi.size() == 2 * rank)
      extent *= p.roi[rank + d] - p.roi[d];
    if (extent > 1e12) return ctx.Error("output axis " + std::to_string(d) + " is too large");
    p.out_extent[d] = extent;
    p.out_shape[d] = static_cast<int64_t>(std::floor(std::max(extent, 0.0)));
  }
  p.scales = std::move(scales);
  return Status::Ok();
}

Status CheckOutputSize(const KernelContext& ctx, const Shape& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(d);
  if (n > 4e12) return ctx.Error("output " + ShapeToString(shape) + " is too large");
  return Status::Ok();
}

}  // namespace

Status ParseResize(const KernelContext& ctx, const Shape& x, ResizeParams* out) {
  ResizeParams& p = *out;
  const size_t rank = x.size();
  SN_RETURN_IF_ERROR(ParseMode(ctx, ctx.node.AttrString("mode", "nearest"), p));
  p.antialias = ctx.node.AttrInt("antialias", 0) != 0;
  if (p.antialias && p.mode == Mode::kNearest) p.antialias = false;  // nearest has no filter

  if (ctx.opset < 11) {
    // Resize-10: scales only, and Upsample's coordinates and rounding.
    if (p.mode == Mode::kCubic) return ctx.Error("cubic mode needs opset 11 or later");
    p.coord = CoordMode::kAsymmetric;
    p.nearest = NearestMode::kSimple;
    const Tensor* scales = ctx.input(1);
    if (!scales) return ctx.Error("missing input scales");
    std::vector<double> s(static_cast<size_t>(scales->numel()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = scales->GetAsDouble(static_cast<int64_t>(i));
    SN_RETURN_IF_ERROR(ScalesToShape(ctx, x, std::move(s), p));
    SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
    return Status::Ok();
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
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    return ctx.Error("keep_aspect_ratio_policy must be stretch, not_larger or not_smaller, got '" +
                     policy + "'");

  // Opset 18's axes: roi, scales and sizes name only these axes; the others keep their length.
  std::vector<size_t> axes;
  if (ctx.node.HasAttr("axes")) {
    std::vector<bool> seen(rank, false);
    for (int64_t a : ctx.node.AttrInts("axes")) {
      if (a < -static_cast<int64_t>(rank) || a >= static_cast<int64_t>(rank))
        return ctx.Error("axis " + std::to_string(a) + " out of range for rank " +
                         std::to_string(rank));
      const size_t axis = static_cast<size_t>(a < 0 ? a + static_cast<int64_t>(rank) : a);
      if (seen[axis]) return ctx.Error("axis " + std::to_string(a) + " repeated");
      seen[axis] = true;
      axes.push_back(axis);
    }
  } else {
    for (size_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  const size_t given = axes.size();
  // Values given for `axes`, spread over every axis with `fill` for the others.
  const auto spread = [&](const std::vector<double>& v, double fill) {
    std::vector<double> all(rank, fill);
    for (size_t k = 0; k < given; ++k) all[axes[k]] = v[k];
    return all;
  };

  if (p.coord == CoordMode::kTfCropAndResize) {
    const Tensor* roi = ctx.input(1);
    if (!roi || roi->numel() != static_cast<int64_t>(2 * given))
      return ctx.Error("tf_crop_and_resize needs roi with 2 values per resized axis (" +
                       std::to_string(2 * given) + ")");
    std::vector<double> starts(given), ends(given);
    for (size_t k = 0; k < given; ++k) {
      starts[k] = roi->GetAsDouble(static_cast<int64_t>(k));
      ends[k] = roi->GetAsDouble(static_cast<int64_t>(given + k));
      if (!std::isfinite(starts[k]) || !std::isfinite(ends[k]))
        return ctx.Error("roi values must be finite");
    }
    p.roi = spread(starts, 0.0);
    const std::vector<double> all_ends = spread(ends, 1.0);
    p.roi.insert(p.roi.end(), all_ends.begin(), all_ends.end());
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
    if (scales->numel() != static_cast<int64_t>(given))
      return ctx.Error("scales has " + std::to_string(scales->numel()) + " values, expected " +
                       std::to_string(given) + " (one per resized axis)");
    std::vector<double> s(given);
    for (size_t i = 0; i < s.size(); ++i) s[i] = scales->GetAsDouble(static_cast<int64_t>(i));
    SN_RETURN_IF_ERROR(ScalesToShape(ctx, x, spread(s, 1.0), p));
  } else if (has_sizes) {
    if (sizes->dtype() != DataType::kInt64)
      return ctx.Error("sizes must be int64, got " + DataTypeName(sizes->dtype()));
    if (sizes->numel() != static_cast<int64_t>(given))
      return ctx.Error("sizes has " + std::to_string(sizes->numel()) + " values, expected " +
                       std::to_string(given) + " (one per resized axis)");
    p.out_shape = x;
    p.out_extent.assign(rank, 0);
    p.scales.assign(rank, 1.0);
    for (size_t d = 0; d < rank; ++d) p.out_extent[d] = static_cast<double>(x[d]);
    // keep_aspect_ratio_policy: one scale for every resized axis, the smallest (not_larger)
    // or largest (not_smaller) of sizes / input, and lengths rounded from it.
    double common = policy == "not_larger" ? INFINITY : 0.0;
    for (size_t k = 0; k < given; ++k) {
      const int64_t n = sizes->data<int64_t>()[k];
      if (n < 0) return ctx.Error("sizes[" + std::to_string(k) + "] is negative");
      const size_t d = axes[k];
      const double ratio = x[d] > 0 ? static_cast<double>(n) / static_cast<double>(x[d]) : 1.0;
      common = policy == "not_larger" ? std::min(common, ratio) : std::max(common, ratio);
      p.out_shape[d] = n;
      p.out_extent[d] = static_cast<double>(n);
      // An empty input axis has no meaningful scale; 1 keeps the formulas finite.
      p.scales[d] = x[d] > 0 && n > 0 ? ratio : 1.0;
    }
    if (policy != "stretch") {
      for (size_t d : axes) {
        const double len = std::round(common * static_cast<double>(x[d]));
        p.out_shape[d] = static_cast<int64_t>(len);
        p.out_extent[d] = len;
        p.scales[d] = x[d] > 0 && len > 0 ? common : 1.0;
      }
    }
  } else {
    return ctx.Error("one of scales and sizes must be given");
  }
  SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
  return Status::Ok();
}

Status ParseUpsample(const KernelContext& ctx, const Shape& x, ResizeParams* out) {
  ResizeParams& p = *out;
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
  SN_RETURN_IF_ERROR(ScalesToShape(ctx, x, std::move(s), p));
  SN_RETURN_IF_ERROR(CheckOutputSize(ctx, p.out_shape));
  return Status::Ok();
}

namespace {

// Taps per output position of the antialiasing filter: the filter's width in input samples.
double AntialiasTaps(const ResizeParams& p, size_t axis) {
  const double reach = p.mode == Mode::kLinear ? 1.0 : 2.0;  // the filter's half width
  return 2 - 2 * (std::floor(-reach / p.scales[axis]) + 1);
}

// Antialiased linear or cubic shrinking (opset 18): the filter is stretched by 1 / scale, so
// each output takes every input sample within its widened support, weights normalised to 1.
// Taps beyond the edges repeat the edge sample unless exclude_outside drops them.
AxisMap AntialiasAxisMap(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len) {
  AxisMap m;
  const double scale = p.scales[axis];
  const double reach = p.mode == Mode::kLinear ? 1.0 : 2.0;
  // A scale like 1e-9 asks for billions of taps per output: more than memory holds anyway.
  if (AntialiasTaps(p, axis) > std::numeric_limits<int>::max()) throw std::bad_alloc();
  const auto start = static_cast<int64_t>(std::floor(-reach / scale)) + 1;
  m.taps = static_cast<int>(2 - 2 * start);
  const size_t n = static_cast<size_t>(out_len) * m.taps;
  m.index.assign(n, 0);
  m.weight.assign(n, 0.0);
  m.outside.assign(static_cast<size_t>(out_len), 0);
  for (int64_t o = 0; o < out_len; ++o) {
    double x = SourceCoord(p, axis, o, in_len);
    if (p.coord == CoordMode::kTfCropAndResize && (x < 0 || x > static_cast<double>(in_len - 1))) {
      m.outside[o] = 1;
      m.any_outside = true;
      continue;
    }
    x = std::clamp(x, -reach / scale - 4.0, static_cast<double>(in_len) + reach / scale + 4.0);
    const double fl = std::floor(x);
    const double r = x - fl;
    const auto i0 = static_cast<int64_t>(fl);
    double sum = 0;
    for (int t = 0; t < m.taps; ++t) {
      const int64_t k = start + t;
      const double arg = (static_cast<double>(k) - r) * scale;
      double w = p.mode == Mode::kLinear ? std::max(0.0, 1.0 - std::fabs(arg))
                                         : CubicWeight(arg, p.cubic_a);
      const int64_t i = i0 + k;
      if (p.exclude_outside && (i < 0 || i >= in_len)) w = 0;
      m.index[o * m.taps + t] = std::clamp<int64_t>(i, 0, in_len - 1);
      m.weight[o * m.taps + t] = w;
      sum += w;
    }
    if (sum != 0)
      for (int t = 0; t < m.taps; ++t) m.weight[o * m.taps + t] /= sum;
  }
  return m;
}

}  // namespace

size_t AxisMapBytes(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len) {
  const double taps = p.antialias && p.scales[axis] < 1 && in_len > 0 ? AntialiasTaps(p, axis)
                      : p.mode == Mode::kNearest                      ? 1
                      : p.mode == Mode::kLinear                       ? 2
                                                                      : 4;
  // index (int64) and weight (double) per tap, one `outside` byte per position.
  const double bytes = static_cast<double>(out_len) * (taps * 16 + 1);
  constexpr double kMax = static_cast<double>(size_t{1} << 62);
  return bytes >= kMax ? size_t{1} << 62 : static_cast<size_t>(bytes);
}

AxisMap BuildAxisMap(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len) {
  if (p.antialias && p.scales[axis] < 1 && in_len > 0)
    return AntialiasAxisMap(p, axis, in_len, out_len);
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

namespace {

// One output row of ResamplePixels with a fixed tap count on both axes (the compiler unrolls
// the taps and vectorises along the pixel vector).
template <int kTaps>
void PixelRow(const float* plane, float* out, int64_t w, int64_t vec, const int64_t* iy,
              const float* wy, const AxisMap& mw, const std::vector<float>& wx, float extrap) {
  const int64_t w_out = static_cast<int64_t>(mw.outside.size());
  const float* rows[kTaps];
  for (int t = 0; t < kTaps; ++t) rows[t] = plane + iy[t] * w * vec;
  for (int64_t ox = 0; ox < w_out; ++ox) {
    float* o = out + ox * vec;
    if (mw.outside[ox]) {
      std::fill(o, o + vec, extrap);
      continue;
    }
    const int64_t* ix = &mw.index[ox * kTaps];
    const float* wt = &wx[ox * kTaps];
    const float* px[kTaps][kTaps];
    for (int ty = 0; ty < kTaps; ++ty)
      for (int tx = 0; tx < kTaps; ++tx) px[ty][tx] = rows[ty] + ix[tx] * vec;
    for (int64_t c = 0; c < vec; ++c) {
      float acc = 0;
      for (int ty = 0; ty < kTaps; ++ty) {
        float h = 0;
        for (int tx = 0; tx < kTaps; ++tx) h += wt[tx] * px[ty][tx][c];
        acc += wy[ty] * h;
      }
      o[c] = acc;
    }
  }
}

// A sum of taps moved to the output's quantization, rounded half to even and saturated, as
// QuantizeLinear does. 1.5 * 2^23 added to a float of magnitude below 2^22 leaves no fraction,
// rounded as the FPU rounds by default (what nearbyint gives, without a call per value); the
// saturation is on integers, which the compiler turns into vector selects (float compares it
// leaves as branches). The caller keeps the value below 2^21 (Requantize::Fits).
template <typename T>
T Store(float v, const Requantize& rq) {
  constexpr float kRound = 12582912.f;
  constexpr int32_t kLow = std::numeric_limits<T>::min(), kHigh = std::numeric_limits<T>::max();
  const float r = rq.multiplier * (v - rq.in_zero) + rq.out_zero;
  int32_t i = static_cast<int32_t>((r + kRound) - kRound);
  i = i < kLow ? kLow : i;
  i = i > kHigh ? kHigh : i;
  return static_cast<T>(i);
}

// One output row of the integer resize from the row the vertical taps made (`line`, floats):
// the horizontal taps, then the requantization.
template <int kTaps, typename T>
void IntegerRow(const float* line, T* out, int64_t w_out, int64_t vec, const AxisMap& mw,
                const std::vector<float>& wx, const Requantize& rq) {
  const Requantize q = rq;
  for (int64_t ox = 0; ox < w_out; ++ox) {
    T* __restrict o = out + ox * vec;
    const float* px[kTaps];
    float wt[kTaps];
    for (int t = 0; t < kTaps; ++t) {
      px[t] = line + mw.index[static_cast<size_t>(ox * kTaps + t)] * vec;
      wt[t] = wx[static_cast<size_t>(ox * kTaps + t)];
    }
    for (int64_t c = 0; c < vec; ++c) {
      float acc = 0;
      for (int t = 0; t < kTaps; ++t) acc += wt[t] * px[t][c];
      o[c] = Store<T>(acc, q);
    }
  }
}

// Integers: the vertical taps first, into a row of floats per thread, then the horizontal
// ones. Each input value is converted to float once per output row instead of once per tap of
// every output pixel, which (on the baseline x86-64 build's 16-byte vectors) is most of the
// cost. The sums run in another order than the float kernel's: they may differ in the last
// bit, which moves a result only where it lies half-way between two integers.
template <typename T>
void ResampleIntegers(const T* src, T* dst, int64_t planes, int64_t h, int64_t w, int64_t vec,
                      const AxisMap& mh, const AxisMap& mw, const Requantize& rq, int num_threads) {
  const int64_t h_out = static_cast<int64_t>(mh.outside.size());
  const int64_t w_out = static_cast<int64_t>(mw.outside.size());
  const std::vector<float> wy(mh.weight.begin(), mh.weight.end());
  const std::vector<float> wx(mw.weight.begin(), mw.weight.end());
  const int64_t rows = planes * h_out, row_len = w * vec;
  const bool parallel = num_threads > 1 && rows * w_out * vec > 32768;
#pragma omp parallel num_threads(num_threads) if (parallel)
  {
    std::vector<float> line(static_cast<size_t>(row_len));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = r / h_out, oy = r % h_out;
      const T* plane = src + p * h * row_len;
      float* __restrict l = line.data();
      for (int t = 0; t < mh.taps; ++t) {
        const size_t k = static_cast<size_t>(oy * mh.taps + t);
        const T* __restrict in = plane + mh.index[k] * row_len;
        const float weight = wy[k];
        if (t == 0)
          for (int64_t i = 0; i < row_len; ++i) l[i] = weight * static_cast<float>(in[i]);
        else
          for (int64_t i = 0; i < row_len; ++i) l[i] += weight * static_cast<float>(in[i]);
      }
      T* out = dst + r * w_out * vec;
      if (mw.taps == 1) IntegerRow<1>(l, out, w_out, vec, mw, wx, rq);
      if (mw.taps == 2) IntegerRow<2>(l, out, w_out, vec, mw, wx, rq);
      if (mw.taps == 4) IntegerRow<4>(l, out, w_out, vec, mw, wx, rq);
    }
  }
}

}  // namespace

void ResamplePixels(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t vec,
                    const AxisMap& mh, const AxisMap& mw, float extrapolation, int num_threads) {
  const int64_t h_out = static_cast<int64_t>(mh.outside.size());
  const int64_t w_out = static_cast<int64_t>(mw.outside.size());
  const int taps = mw.taps;
  const std::vector<float> wy(mh.weight.begin(), mh.weight.end());
  const std::vector<float> wx(mw.weight.begin(), mw.weight.end());
  const int64_t rows = planes * h_out;
  const bool parallel = num_threads > 1 && rows * w_out * vec > 32768;
#pragma omp parallel for num_threads(num_threads) schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r / h_out, oy = r % h_out;
    float* out = dst + r * w_out * vec;
    if (mh.outside[oy]) {
      std::fill(out, out + w_out * vec, extrapolation);
      continue;
    }
    const float* plane = src + p * h * w * vec;
    const int64_t* iy = &mh.index[oy * taps];
    const float* wr = &wy[oy * taps];
    if (taps == 1) PixelRow<1>(plane, out, w, vec, iy, wr, mw, wx, extrapolation);
    if (taps == 2) PixelRow<2>(plane, out, w, vec, iy, wr, mw, wx, extrapolation);
    if (taps == 4) PixelRow<4>(plane, out, w, vec, iy, wr, mw, wx, extrapolation);
  }
}

void ResamplePixels(const uint8_t* src, uint8_t* dst, int64_t planes, int64_t h, int64_t w,
                    int64_t vec, const AxisMap& mh, const AxisMap& mw, const Requantize& rq,
                    int num_threads) {
  ResampleIntegers(src, dst, planes, h, w, vec, mh, mw, rq, num_threads);
}

void ResamplePixels(const int8_t* src, int8_t* dst, int64_t planes, int64_t h, int64_t w,
                    int64_t vec, const AxisMap& mh, const AxisMap& mw, const Requantize& rq,
                    int num_threads) {
  ResampleIntegers(src, dst, planes, h, w, vec, mh, mw, rq, num_threads);
}

}  // namespace supernova::ops::resampling
