#include "compress/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace supernova::compress {

Result<CalibMethod> ParseCalibMethod(const std::string& name) {
  if (name == "minmax") return CalibMethod::kMinMax;
  if (name == "percentile") return CalibMethod::kPercentile;
  if (name == "entropy") return CalibMethod::kEntropy;
  return Status::InvalidArgument("unknown calibration method '" + name +
                                 "' (minmax, percentile, entropy)");
}

const char* CalibMethodName(CalibMethod m) {
  switch (m) {
    case CalibMethod::kMinMax:
      return "minmax";
    case CalibMethod::kPercentile:
      return "percentile";
    case CalibMethod::kEntropy:
      return "entropy";
  }
  return "?";
}

namespace {
Status CheckFloat(const Tensor& t) {
  if (t.dtype() != DataType::kFloat32)
    return Status::InvalidArgument("calibration reads float32 tensors, got " +
                                   DataTypeName(t.dtype()));
  return Status::Ok();
}
}  // namespace

Status RangeStats::AddRange(const Tensor& t) {
  SN_RETURN_IF_ERROR(CheckFloat(t));
  const float* p = t.data<float>();
  float lo = count_ ? min_ : std::numeric_limits<float>::infinity();
  float hi = count_ ? max_ : -std::numeric_limits<float>::infinity();
  int64_t seen = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(p[i])) {
      ++non_finite_;
      continue;
    }
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
    ++seen;
  }
  if (seen == 0) return Status::Ok();
  min_ = lo;
  max_ = hi;
  count_ += seen;
  return Status::Ok();
}

Status RangeStats::AddHistogram(const Tensor& t) {
  SN_RETURN_IF_ERROR(CheckFloat(t));
  if (hist_.empty()) {
    hist_.assign(kBins, 0);
    bound_ = std::max(std::fabs(min_), std::fabs(max_));
  }
  if (!(bound_ > 0)) return Status::Ok();
  const float* p = t.data<float>();
  const float per_bin = kBins / bound_;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(p[i])) continue;
    const int b = std::min(kBins - 1, static_cast<int>(std::fabs(p[i]) * per_bin));
    ++hist_[static_cast<size_t>(b)];
  }
  return Status::Ok();
}

// The range of the data clipped at |x| <= threshold: one-sided where the data were.
Range RangeStats::Clip(float threshold) const {
  return {std::max(min_, -threshold), std::min(max_, threshold)};
}

Range RangeStats::Percentile(double percentile) const {
  if (hist_.empty() || !(bound_ > 0)) return MinMax();
  int64_t total = 0;
  for (int64_t c : hist_) total += c;
  const double keep = static_cast<double>(total) * std::clamp(percentile, 0.0, 100.0) / 100.0;
  int64_t cum = 0;
  for (int b = 0; b < kBins; ++b) {
    cum += hist_[static_cast<size_t>(b)];
    if (static_cast<double>(cum) >= keep) return Clip(bound_ * (b + 1) / kBins);
  }
  return MinMax();
}

// For each candidate threshold (a number of bins i from 128 up), the reference distribution P is
// the histogram up to i with everything beyond folded into bin i-1; the candidate Q merges those
// i bins into 128 levels and spreads each level back evenly over its non-empty bins. The
// threshold with the least KL(P || Q) wins.
Range RangeStats::Entropy() const {
  constexpr int kLevels = 128;
  if (hist_.empty() || !(bound_ > 0)) return MinMax();
  int64_t total = 0;
  for (int64_t c : hist_) total += c;
  if (total == 0) return MinMax();
  double best_kl = std::numeric_limits<double>::infinity();
  int best = kBins;
  std::vector<double> p, q;
  for (int i = kLevels; i <= kBins; ++i) {
    p.assign(hist_.begin(), hist_.begin() + i);
    double outliers = 0;
    for (int b = i; b < kBins; ++b) outliers += static_cast<double>(hist_[static_cast<size_t>(b)]);
    p[static_cast<size_t>(i - 1)] += outliers;
    q.assign(static_cast<size_t>(i), 0.0);
    const double width = static_cast<double>(i) / kLevels;
    for (int level = 0; level < kLevels; ++level) {
      const int from = static_cast<int>(std::floor(level * width));
      const int to = std::max(from + 1, static_cast<int>(std::floor((level + 1) * width)));
      double sum = 0;
      int nonzero = 0;
      for (int b = from; b < to && b < i; ++b) {
        sum += static_cast<double>(hist_[static_cast<size_t>(b)]);
        nonzero += hist_[static_cast<size_t>(b)] != 0;
      }
      if (nonzero == 0) continue;
      for (int b = from; b < to && b < i; ++b)
        if (hist_[static_cast<size_t>(b)] != 0) q[static_cast<size_t>(b)] = sum / nonzero;
    }
    double p_sum = 0, q_sum = 0;
    for (int b = 0; b < i; ++b) {
      p_sum += p[static_cast<size_t>(b)];
      q_sum += q[static_cast<size_t>(b)];
    }
    if (p_sum <= 0 || q_sum <= 0) continue;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      const double pb = p[static_cast<size_t>(b)] / p_sum;
      if (pb <= 0) continue;
      const double qb = q[static_cast<size_t>(b)] / q_sum;
      // A bin P has and Q lost: charge it as if Q held a tiny share, so the sum stays finite.
      kl += pb * std::log(pb / (qb > 0 ? qb : 1e-12));
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return Clip(bound_ * static_cast<float>(best) / kBins);
}

Status ChannelMeans::Add(const Tensor& t, int axis) {
  SN_RETURN_IF_ERROR(CheckFloat(t));
  const int rank = static_cast<int>(t.rank());
  const int a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank) return Status::InvalidArgument("channel axis out of range");
  const int64_t channels = t.dim(static_cast<size_t>(a));
  int64_t inner = 1;
  for (int d = a + 1; d < rank; ++d) inner *= t.dim(static_cast<size_t>(d));
  if (sums_.empty()) sums_.assign(static_cast<size_t>(channels), 0.0);
  if (static_cast<int64_t>(sums_.size()) != channels)
    return Status::InvalidArgument("the activation's channel count changed between inputs");
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::isfinite(p[i])) sums_[static_cast<size_t>((i / inner) % channels)] += p[i];
  count_ += t.numel() / std::max<int64_t>(channels, 1);
  means_.resize(sums_.size());
  for (size_t c = 0; c < sums_.size(); ++c) means_[c] = sums_[c] / static_cast<double>(count_);
  return Status::Ok();
}

Status ChannelExtremes::Add(const Tensor& t) {
  SN_RETURN_IF_ERROR(CheckFloat(t));
  if (t.rank() < 2) return Status::InvalidArgument("a per-channel range needs a channel axis");
  const int64_t channels = t.dim(1);
  int64_t inner = 1;
  for (size_t d = 2; d < t.rank(); ++d) inner *= t.dim(d);
  if (max_abs_.empty()) max_abs_.assign(static_cast<size_t>(channels), 0.f);
  if (static_cast<int64_t>(max_abs_.size()) != channels)
    return Status::InvalidArgument("the activation's channel count changed between inputs");
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(p[i])) continue;
    float& m = max_abs_[static_cast<size_t>((i / inner) % channels)];
    m = std::max(m, std::fabs(p[i]));
  }
  return Status::Ok();
}

std::vector<float> ChannelExtremes::MaxAbs(float cap) const {
  std::vector<float> r = max_abs_;
  for (float& m : r) m = std::min(m, cap);
  return r;
}

Range RangeStats::Compute(CalibMethod m, double percentile) const {
  switch (m) {
    case CalibMethod::kMinMax:
      return MinMax();
    case CalibMethod::kPercentile:
      return Percentile(percentile);
    case CalibMethod::kEntropy:
      return Entropy();
  }
  return MinMax();
}

}  // namespace supernova::compress
