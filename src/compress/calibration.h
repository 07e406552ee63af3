// Activation ranges from calibration data: min-max, percentile and entropy (KL divergence).
//
// Min-max takes the extremes seen. Percentile clips the rare tails: the range covers the given
// share of all values seen on each side. Entropy picks the clipping threshold whose 8-bit
// quantized histogram loses the least information against the full one (the KL divergence of
// the two distributions, the method TensorRT describes for int8 calibration).
// Percentile and entropy need a histogram over a range known in advance, so they see the data
// twice: AddRange() on the first pass, AddHistogram() on the second.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::compress {

enum class CalibMethod { kMinMax, kPercentile, kEntropy };
Result<CalibMethod> ParseCalibMethod(const std::string& name);
const char* CalibMethodName(CalibMethod m);
// Whether the method needs the histogram pass.
inline bool NeedsHistogram(CalibMethod m) { return m != CalibMethod::kMinMax; }

struct Range {
  float min = 0, max = 0;
  // Per channel (axis 1): the largest |x| of each, for a symmetric scale per channel; empty
  // for one range.
  std::vector<float> channel_max_abs;
};

class RangeStats {
 public:
  static constexpr int kBins = 2048;

  // First pass: extremes. Non-finite values are ignored (and counted).
  Status AddRange(const Tensor& t);
  // Second pass: the histogram of |x| over [0, max(|min|, |max|)] of the first pass, and of
  // the signs, so that a tensor that is never negative keeps a one-sided range.
  Status AddHistogram(const Tensor& t);

  bool empty() const { return count_ == 0; }
  Range MinMax() const { return {min_, max_}; }
  // `percentile` in (50, 100]: the range keeps that share of |x|.
  Range Percentile(double percentile) const;
  Range Entropy() const;
  Range Compute(CalibMethod m, double percentile) const;

 private:
  Range Clip(float threshold) const;

  float min_ = 0, max_ = 0;
  int64_t count_ = 0;
  int64_t non_finite_ = 0;
  std::vector<int64_t> hist_;  // |x| in kBins bins over [0, bound_]
  float bound_ = 0;
};

// The largest |x| of each channel (axis 1) of an activation over the calibration data, for
// symmetric per-channel scales. Non-finite values are ignored.
class ChannelExtremes {
 public:
  Status Add(const Tensor& t);
  // Each channel's largest |x|, no more than `cap` (the tensor's calibrated bound: a
  // percentile or entropy range clips a channel's outliers too).
  std::vector<float> MaxAbs(float cap) const;

 private:
  std::vector<float> max_abs_;
};

// Per-channel means of an activation over the calibration data, for bias correction: the
// expected shift a quantized weight puts on each output channel is its rounding error times
// the mean of the input it multiplies.
class ChannelMeans {
 public:
  // `axis` < 0 counts from the end (-1: the last axis, a MatMul's K).
  Status Add(const Tensor& t, int axis);
  const std::vector<double>& means() const { return means_; }

 private:
  std::vector<double> sums_, means_;
  int64_t count_ = 0;  // elements per channel so far
};

}  // namespace supernova::compress
