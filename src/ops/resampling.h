// What a Resize or Upsample node asks for, resolved against its input shape: per axis the
// output length and a table of source taps. The reference kernel (ops/resize.cc) and the oneDNN
// regions' channels-last step (dnnl/) both sample through these tables, so ONNX's coordinate
// modes and rounding rules are written down once.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/kernel.h"

namespace supernova::ops::resampling {

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
  // Opset 18: when shrinking, linear and cubic stretch their filter by 1 / scale, so every
  // input sample contributes (more than 2 or 4 taps per output).
  bool antialias = false;
  double extrapolation = 0;
  std::vector<double> scales;  // per axis
  // Per axis, the "resized length" that align_corners and tf_crop_and_resize divide by. With
  // scales it stays fractional (input length * scale), as in ONNX's reference: downscaling 4
  // by 0.6 divides by 2.4 - 1, not by the 2 - 1 of the floored output length.
  std::vector<double> out_extent;
  std::vector<double> roi;  // 2 * rank (starts then ends); only for tf_crop_and_resize
  Shape out_shape;
};

// One axis: for each output position `taps` clamped input indices and their weights (1, 2
// or 4 taps; any number with antialias).
struct AxisMap {
  int taps = 1;
  std::vector<int64_t> index;    // out_len * taps
  std::vector<double> weight;    // out_len * taps
  std::vector<uint8_t> outside;  // out_len: 1 where tf_crop_and_resize extrapolates
  bool any_outside = false;
  bool identity = false;
};

// Reads ctx.node's attributes and its inputs roi/scales/sizes (ctx.input(1..3); input 0 is not
// read, `x` gives its shape) into `p`. InvalidArgument or Unimplemented naming the node when
// the node asks for something invalid or unsupported.
Status ParseResize(const KernelContext& ctx, const Shape& x, ResizeParams* p);
// The same for Upsample (scales as input 1 from opset 9, as an attribute before).
Status ParseUpsample(const KernelContext& ctx, const Shape& x, ResizeParams* p);

AxisMap BuildAxisMap(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len);
// The bytes BuildAxisMap's result holds, computed without building it (saturating at 2^62): a
// model's scales choose them, so a kernel charges them to the run before building
// (KernelContext::ChargeScratch).
size_t AxisMapBytes(const ResizeParams& p, size_t axis, int64_t in_len, int64_t out_len);

// Resamples the middle two axes of `planes` arrays of [h, w, vec] floats into [mh's length,
// mw's length, vec]: channels-last pixels (vec = channels), or the channel blocks of a blocked
// layout (vec = block). Each output vector is the taps of mh times the taps of mw, summed
// along w first as the reference kernel does; `outside` positions get `extrapolation`.
void ResamplePixels(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t vec,
                    const AxisMap& mh, const AxisMap& mw, float extrapolation, int num_threads);
// From the integers of one quantization (scale s_in, zero point in_zero) to those of another:
// each sum of taps q becomes multiplier * (q - in_zero) + out_zero, multiplier = s_in / s_out.
// Valid where that stays below 2^21 in magnitude for any 8-bit q (Fits).
struct Requantize {
  bool Fits() const { return std::fabs(multiplier) * 512.f + std::fabs(out_zero) < 2097152.f; }
  float multiplier = 1, in_zero = 0, out_zero = 0;
};

// The same over 8-bit integers that stand for real numbers with one scale and zero point: each
// sum of taps requantized, rounded half to even and saturated, which is what QuantizeLinear
// makes of the float resize of the dequantized input (no extrapolation: a map with points
// outside is not for these).
void ResamplePixels(const uint8_t* src, uint8_t* dst, int64_t planes, int64_t h, int64_t w,
                    int64_t vec, const AxisMap& mh, const AxisMap& mw, const Requantize& rq,
                    int num_threads);
void ResamplePixels(const int8_t* src, int8_t* dst, int64_t planes, int64_t h, int64_t w,
                    int64_t vec, const AxisMap& mh, const AxisMap& mw, const Requantize& rq,
                    int num_threads);

}  // namespace supernova::ops::resampling
