// The window functions of signal processing (opset 17): HannWindow, HammingWindow and
// BlackmanWindow, each a sum of cosines
//   w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N),  n in [0, size),
// with N = size when periodic (the default: the window for a DFT of that size) and size - 1
// when symmetric (the filter-design window), cast to output_datatype (default float32).
#include <numbers>
#include <string>

#include "ops/op.h"
#include "ops/signal.h"

namespace supernova::ops {
namespace {

struct Cosines {
  double a0, a1, a2;
};
constexpr Cosines kHann{0.5, 0.5, 0.0};
// The spec's Hamming coefficients are 25/46 and 21/46 (zero first sidelobe), not the rounded
// 0.54 and 0.46 of numpy.hamming.
constexpr Cosines kHamming{25.0 / 46.0, 21.0 / 46.0, 0.0};
constexpr Cosines kBlackman{0.42, 0.5, 0.08};

Status Generate(KernelContext& ctx, Cosines c) {
  int64_t size = 0;
  SN_RETURN_IF_ERROR(ScalarInt(ctx, 0, "size", &size));
  if (size < 0) return ctx.Error("size must be non-negative, got " + std::to_string(size));
  if (size > kMaxSignalLength)
    return ctx.Unsupported("size " + std::to_string(size) + " is past the 2^30 supported");
  const DataType dtype = OutputDatatype(ctx.node);
  if (dtype == DataType::kUndefined)
    return ctx.Error("output_datatype " + std::to_string(ctx.node.AttrInt("output_datatype", 1)) +
                     " is not a numeric type");
  const bool periodic = ctx.node.AttrInt("periodic", 1) != 0;
  const int64_t period = periodic ? size : size - 1;
  Tensor& y = ctx.Output(0, dtype, {size});
  return DispatchWithHalf<true>(dtype, [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    T* out = y.data<T>();
    // A symmetric window of one sample has no period (the spec's formula divides 0 by 0);
    // it passes its sample unchanged, as numpy's and torch's windows do.
    if (period == 0) {
      if (size == 1) out[0] = FromDouble<T>(1.0);
      return Status::Ok();
    }
    for (int64_t n = 0; n < size; ++n) {
      const double a =
          2.0 * std::numbers::pi * static_cast<double>(n) / static_cast<double>(period);
      out[n] = FromDouble<T>(c.a0 - c.a1 * std::cos(a) + c.a2 * std::cos(2.0 * a));
    }
    return Status::Ok();
  });
}

Status HannWindow(KernelContext& ctx) { return Generate(ctx, kHann); }
Status HammingWindow(KernelContext& ctx) { return Generate(ctx, kHamming); }
Status BlackmanWindow(KernelContext& ctx) { return Generate(ctx, kBlackman); }

std::optional<Dims> InferWindow(InferContext& ctx) {
  ctx.dtype = OutputDatatype(ctx.node);
  const auto size = ConstScalar(ctx.in(0));
  return Dims{size && *size >= 0 ? ir::Dim::Known(*size) : ir::Dim{}};
}

constexpr OpDef kOps[] = {
    {"BlackmanWindow", BlackmanWindow, InferWindow},
    {"HammingWindow", HammingWindow, InferWindow},
    {"HannWindow", HannWindow, InferWindow},
};

}  // namespace

std::span<const OpDef> WindowFunctionOps() { return kOps; }

}  // namespace supernova::ops
