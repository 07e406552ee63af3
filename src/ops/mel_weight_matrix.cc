// MelWeightMatrix (opset 17): the [dft_length/2+1, num_mel_bins] matrix that maps the bins of
// a onesided spectrum to num_mel_bins triangular filters evenly spaced on the mel scale
// (mel = 2595 log10(1 + hz/700)) between lower_edge_hertz and upper_edge_hertz.
//
// It follows the spec's reference formula to the letter, quirks included, because a model
// trained with it expects these exact weights:
//  - the mel step is (high - low) / (num_mel_bins + 2), not / (num_mel_bins + 1), so that the
//    last filter ends below upper_edge_hertz;
//  - each filter's edges are whole spectrum bins, floor((dft_length + 1) * hz / sample_rate)
//    (Python's float floor division), and the triangles are drawn between those integers;
//  - the mel values are computed in the edges' own float type (float32 unless they are
//    float64), as numpy does with the reference's scalars, the rest in double.
#include <cmath>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/signal.h"

namespace supernova::ops {
namespace {

// Python's a // b for floats: the floor of the exact quotient (from fmod, which is exact),
// not of the rounded a / b, which may round up onto the next integer.
double FloorDiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floor = std::floor(div);
  if (div - floor > 0.5) floor += 1.0;
  return floor;
}

// The num_mel_bins + 2 filter edges as spectrum bins, computed in E as the reference does.
template <typename E>
std::vector<double> EdgeHertz(int64_t num_mel_bins, double lower, double upper) {
  const E low = E(2595) * std::log10(E(1) + static_cast<E>(lower) / E(700));
  const E high = E(2595) * std::log10(E(1) + static_cast<E>(upper) / E(700));
  const E step = (high - low) / static_cast<E>(num_mel_bins + 2);
  std::vector<double> hz(static_cast<size_t>(num_mel_bins + 2));
  for (int64_t i = 0; i < num_mel_bins + 2; ++i) {
    const double mel =
        static_cast<double>(i) * static_cast<double>(step) + static_cast<double>(low);
    hz[static_cast<size_t>(i)] = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  }
  return hz;
}

Status ScalarFloat(const KernelContext& ctx, size_t i, const char* name, double* value) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.Error(std::string("missing input ") + name);
  const DataType d = t->dtype();
  if ((d != DataType::kFloat32 && d != DataType::kFloat64 && d != DataType::kFloat16 &&
       d != DataType::kBFloat16) ||
      t->numel() != 1 || t->rank() > 1)
    return ctx.Error(std::string(name) + " must be one float value, got " + DataTypeName(d) +
                     ShapeToString(t->shape()));
  *value = t->GetAsDouble(0);
  return Status::Ok();
}

Status MelWeightMatrix(KernelContext& ctx) {
  int64_t mel_bins = 0, dft_length = 0, sample_rate = 0;
  double lower = 0, upper = 0;
  SN_RETURN_IF_ERROR(ScalarInt(ctx, 0, "num_mel_bins", &mel_bins));
  SN_RETURN_IF_ERROR(ScalarInt(ctx, 1, "dft_length", &dft_length));
  SN_RETURN_IF_ERROR(ScalarInt(ctx, 2, "sample_rate", &sample_rate));
  SN_RETURN_IF_ERROR(ScalarFloat(ctx, 3, "lower_edge_hertz", &lower));
  SN_RETURN_IF_ERROR(ScalarFloat(ctx, 4, "upper_edge_hertz", &upper));
  if (mel_bins < 0)
    return ctx.Error("num_mel_bins must be non-negative, got " + std::to_string(mel_bins));
  if (dft_length < 1)
    return ctx.Error("dft_length must be positive, got " + std::to_string(dft_length));
  if (sample_rate < 1)
    return ctx.Error("sample_rate must be positive, got " + std::to_string(sample_rate));
  if (dft_length > kMaxSignalLength || mel_bins > kMaxSignalLength / (dft_length / 2 + 1))
    return ctx.Unsupported("a matrix of " + std::to_string(dft_length / 2 + 1) + " x " +
                           std::to_string(mel_bins) + " is past the 2^30 elements supported");
  const DataType dtype = OutputDatatype(ctx.node);
  if (dtype == DataType::kUndefined)
    return ctx.Error("output_datatype " + std::to_string(ctx.node.AttrInt("output_datatype", 1)) +
                     " is not a numeric type");

  const bool wide = ctx.input(3)->dtype() == DataType::kFloat64;
  const std::vector<double> hz =
      wide ? EdgeHertz<double>(mel_bins, lower, upper) : EdgeHertz<float>(mel_bins, lower, upper);
  const int64_t spectrum_bins = dft_length / 2 + 1;
  std::vector<int64_t> edge(hz.size());
  for (size_t i = 0; i < hz.size(); ++i) {
    const double bin =
        FloorDiv(static_cast<double>(dft_length + 1) * hz[i], static_cast<double>(sample_rate));
    // The reference would index out of its matrix (or wrap a negative index): refuse.
    if (!(bin >= 0 && bin < static_cast<double>(spectrum_bins)))
      return ctx.Error("mel filter edge at " + std::to_string(hz[i]) +
                       " Hz falls outside the spectrum of dft_length " +
                       std::to_string(dft_length) + " at sample_rate " +
                       std::to_string(sample_rate) + "; check lower/upper_edge_hertz");
    edge[i] = static_cast<int64_t>(bin);
  }

  std::vector<double> w(static_cast<size_t>(spectrum_bins * mel_bins), 0.0);
  auto at = [&](int64_t bin, int64_t mel) -> double& {
    return w[static_cast<size_t>(bin * mel_bins + mel)];
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t left = edge[i], center = edge[i + 1], right = edge[i + 2];
    if (center == left) {
      at(center, i) = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        at(j, i) = static_cast<double>(j - left) / static_cast<double>(center - left);
    }
    if (right > center) {
      for (int64_t j = center; j < right; ++j)
        at(j, i) = static_cast<double>(right - j) / static_cast<double>(right - center);
    }
  }

  Tensor& y = ctx.Output(0, dtype, {spectrum_bins, mel_bins});
  return DispatchWithHalf<true>(dtype, [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    T* out = y.data<T>();
    for (size_t k = 0; k < w.size(); ++k) out[k] = FromDouble<T>(w[k]);
    return Status::Ok();
  });
}

std::optional<Dims> InferMelWeightMatrix(InferContext& ctx) {
  ctx.dtype = OutputDatatype(ctx.node);
  const auto mel_bins = ConstScalar(ctx.in(0));
  const auto dft_length = ConstScalar(ctx.in(1));
  return Dims{dft_length && *dft_length >= 1 ? ir::Dim::Known(*dft_length / 2 + 1) : ir::Dim{},
              mel_bins && *mel_bins >= 0 ? ir::Dim::Known(*mel_bins) : ir::Dim{}};
}

constexpr OpDef kOps[] = {
    {"MelWeightMatrix", MelWeightMatrix, InferMelWeightMatrix},
};

}  // namespace

std::span<const OpDef> MelWeightMatrixOps() { return kOps; }

}  // namespace supernova::ops
