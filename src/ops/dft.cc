// DFT (opsets 17 and 20): the discrete Fourier transform of a real ([..., 1]) or complex
// ([..., 2]) signal along one axis, forward or inverse (scaled by 1/N, as numpy.fft.ifft),
// of dft_length points (the signal cut or zero-padded to it), the output always complex and,
// when onesided, only its floor(N/2)+1 first bins. Opset 17 takes the axis as an attribute
// (default 1), opset 20 as an optional input (default -2, the last signal axis). The transform
// itself is ops/fft.h.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/fft.h"
#include "ops/op.h"
#include "ops/signal.h"

namespace supernova::ops {
namespace {

// The signal axis, in [0, rank - 2]: the last dim holds the complex parts and is no axis.
bool SignalAxis(int64_t& axis, int64_t rank) {
  if (axis < 0) axis += rank;
  return axis >= 0 && axis <= rank - 2;
}

struct Transform {
  int64_t outer, len, inner;  // the input as [outer, len, inner, parts]
  int64_t parts;              // 1 (real) or 2 (complex)
  int64_t n;                  // dft_length
  int64_t out_len;            // n, or n/2+1 when onesided
  bool inverse;
};

template <typename T>
void Run(const Transform& t, const T* x, T* y, int num_threads) {
  const int64_t take = std::min(t.len, t.n), step = t.inner * t.parts;
  const double scale = t.inverse ? 1.0 / static_cast<double>(t.n) : 1.0;
  TransformRows(
      FftPlan(t.n), t.outer * t.inner, t.inverse, num_threads,
      [&](int64_t r, Complex* data) {
        const T* in = x + ((r / t.inner) * t.len * t.inner + r % t.inner) * t.parts;
        for (int64_t k = 0; k < take; ++k, in += step)
          data[k] = {ToDouble(in[0]), t.parts == 2 ? ToDouble(in[1]) : 0.0};
        std::fill(data + take, data + t.n, Complex{});
      },
      [&](int64_t r, const Complex* data) {
        T* out = y + ((r / t.inner) * t.out_len * t.inner + r % t.inner) * 2;
        for (int64_t k = 0; k < t.out_len; ++k, out += t.inner * 2) {
          out[0] = FromDouble<T>(data[k].real() * scale);
          out[1] = FromDouble<T>(data[k].imag() * scale);
        }
      });
}

Status Dft(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank < 2 || (x->shape().back() != 1 && x->shape().back() != 2))
    return ctx.Error("input must be [..., 1] (real) or [..., 2] (complex), got " +
                     ShapeToString(x->shape()));
  int64_t axis = 1;
  if (ctx.opset >= 20) {
    axis = -2;
    if (const Tensor* a = ctx.input(2)) {
      if (a->dtype() != DataType::kInt64 || a->numel() != 1 || a->rank() > 1)
        return ctx.Error("axis must be one int64 value, got " + DataTypeName(a->dtype()) +
                         ShapeToString(a->shape()));
      axis = a->data<int64_t>()[0];
    }
  } else {
    axis = ctx.node.AttrInt("axis", 1);
  }
  const int64_t given_axis = axis;
  if (!SignalAxis(axis, rank))
    return ctx.Error("axis " + std::to_string(given_axis) + " is not a signal axis of input " +
                     ShapeToString(x->shape()) + " (the last dim holds the complex parts)");
  Transform t;
  t.parts = x->shape().back();
  t.len = x->dim(static_cast<size_t>(axis));
  t.n = t.len;
  if (ctx.input(1)) {
    SN_RETURN_IF_ERROR(ScalarInt(ctx, 1, "dft_length", &t.n));
    if (t.n < 1) return ctx.Error("dft_length must be positive, got " + std::to_string(t.n));
    if (t.n > kMaxSignalLength)
      return ctx.Unsupported("dft_length " + std::to_string(t.n) + " is past the 2^30 supported");
  }
  if (t.n < 1) return ctx.Error("the signal axis is empty and no dft_length is given");
  t.inverse = ctx.node.AttrInt("inverse", 0) != 0;
  const bool onesided = ctx.node.AttrInt("onesided", 0) != 0;
  if (onesided && t.inverse)
    return ctx.Unsupported("onesided inverse DFT (a real signal from half a spectrum)");
  if (onesided && t.parts == 2)
    return ctx.Error("onesided output needs a real input ([..., 1]); the input is complex");
  t.out_len = onesided ? t.n / 2 + 1 : t.n;
  t.outer = 1;
  t.inner = 1;
  for (int64_t d = 0; d < axis; ++d) t.outer *= x->dim(static_cast<size_t>(d));
  for (int64_t d = axis + 1; d < rank - 1; ++d) t.inner *= x->dim(static_cast<size_t>(d));

  Shape out_shape = x->shape();
  out_shape[static_cast<size_t>(axis)] = t.out_len;
  out_shape.back() = 2;
  Tensor& y = ctx.Output(0, x->dtype(), out_shape);
  if (y.numel() == 0) return Status::Ok();
  Status st = DispatchWithHalf<false>(x->dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    Run<T>(t, x->data<T>(), y.data<T>(), ctx.num_threads);
    return Status::Ok();
  });
  return st.ok() ? st : ctx.Unsupported(st.message());
}

std::optional<Dims> InferDft(InferContext& ctx) {
  if (!ctx.in(0).has_rank()) return std::nullopt;
  Dims dims = ctx.in(0).dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (rank < 2) return std::nullopt;
  dims.back() = ir::Dim::Known(2);
  std::optional<int64_t> axis = ctx.node.AttrInt("axis", 1);
  if (ctx.opset >= 20) axis = HasInput(ctx.node, 2) ? ConstScalar(ctx.in(2)) : int64_t{-2};
  if (!axis || !SignalAxis(*axis, rank)) {
    for (size_t d = 0; d + 1 < dims.size(); ++d) dims[d] = ir::Dim{};
    return dims;
  }
  ir::Dim& d = dims[static_cast<size_t>(*axis)];
  // -1: unknown (a known length is at least 1).
  int64_t n = d.known() ? d.value : -1;
  if (HasInput(ctx.node, 1)) n = ConstScalar(ctx.in(1)).value_or(-1);
  const bool onesided = ctx.node.AttrInt("onesided", 0) != 0;
  d = n >= 1 ? ir::Dim::Known(onesided ? n / 2 + 1 : n) : ir::Dim{};
  return dims;
}

constexpr OpDef kOps[] = {
    {"DFT", Dft, InferDft},
};

}  // namespace

std::span<const OpDef> DftOps() { return kOps; }

}  // namespace supernova::ops
