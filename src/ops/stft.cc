// STFT (opset 17): the short-time Fourier transform. The signal [batch, length, 1 or 2] is
// cut into frames of frame_length samples every frame_step samples (only whole frames: there
// are (length - frame_length) / frame_step + 1), each multiplied by the window and
// transformed (ops/fft.h); the output is [batch, frames, bins, 2], bins = frame_length, or
// frame_length/2+1 when onesided (the default). frame_length defaults to the window's length
// and, without a window either, to the whole signal (one frame), as the ONNX reference does.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/fft.h"
#include "ops/op.h"
#include "ops/signal.h"

namespace supernova::ops {
namespace {

struct Frames {
  int64_t batch, length, parts;  // the signal
  int64_t step, size, count;     // frame_step, frame_length, number of frames
  int64_t bins;
};

template <typename T>
void Run(const Frames& f, const T* x, const T* window, T* y, int num_threads) {
  std::vector<double> w(static_cast<size_t>(f.size), 1.0);
  if (window)
    for (int64_t k = 0; k < f.size; ++k) w[k] = ToDouble(window[k]);
  TransformRows(
      FftPlan(f.size), f.batch * f.count, false, num_threads,
      [&](int64_t r, Complex* data) {
        const T* in = x + ((r / f.count) * f.length + (r % f.count) * f.step) * f.parts;
        for (int64_t k = 0; k < f.size; ++k, in += f.parts)
          data[k] = {ToDouble(in[0]) * w[k], f.parts == 2 ? ToDouble(in[1]) * w[k] : 0.0};
      },
      [&](int64_t r, const Complex* data) {
        T* out = y + r * f.bins * 2;
        for (int64_t k = 0; k < f.bins; ++k) {
          out[2 * k] = FromDouble<T>(data[k].real());
          out[2 * k + 1] = FromDouble<T>(data[k].imag());
        }
      });
}

Status Stft(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input signal");
  if (x->rank() != 3 || (x->dim(2) != 1 && x->dim(2) != 2))
    return ctx.Error(
        "signal must be [batch, length, 1] (real) or [batch, length, 2] (complex), got " +
        ShapeToString(x->shape()));
  Frames f;
  f.batch = x->dim(0);
  f.length = x->dim(1);
  f.parts = x->dim(2);
  SN_RETURN_IF_ERROR(ScalarInt(ctx, 1, "frame_step", &f.step));
  if (f.step < 1) return ctx.Error("frame_step must be positive, got " + std::to_string(f.step));
  const Tensor* window = ctx.input(2);
  if (window) {
    if (window->rank() != 1)
      return ctx.Error("window must be 1-D, got " + ShapeToString(window->shape()));
    if (window->dtype() != x->dtype())
      return ctx.Error("window is " + DataTypeName(window->dtype()) + " and the signal " +
                       DataTypeName(x->dtype()) + "; they must be of one type");
  }
  f.size = window ? window->dim(0) : f.length;
  if (ctx.input(3)) {
    SN_RETURN_IF_ERROR(ScalarInt(ctx, 3, "frame_length", &f.size));
    if (window && window->dim(0) != f.size)
      return ctx.Error("window has " + std::to_string(window->dim(0)) +
                       " samples and frame_length is " + std::to_string(f.size));
  }
  if (f.size < 1) return ctx.Error("frame_length must be positive, got " + std::to_string(f.size));
  if (f.size > f.length)
    return ctx.Error("frame_length " + std::to_string(f.size) + " is longer than the signal (" +
                     std::to_string(f.length) + " samples)");
  const bool onesided = ctx.node.AttrInt("onesided", 1) != 0;
  if (onesided && f.parts == 2)
    return ctx.Error(
        "onesided output (the default) needs a real signal; set onesided=0 for a "
        "complex one");
  f.count = (f.length - f.size) / f.step + 1;
  f.bins = onesided ? f.size / 2 + 1 : f.size;
  int64_t elements = 0;
  if (__builtin_mul_overflow(f.batch * f.count, f.bins * 2, &elements) ||
      elements > kMaxSignalLength * 16)
    return ctx.Unsupported("an output of " + std::to_string(f.batch) + " x " +
                           std::to_string(f.count) + " frames x " + std::to_string(f.bins) +
                           " bins is too large");

  Tensor& y = ctx.Output(0, x->dtype(), {f.batch, f.count, f.bins, 2});
  if (y.numel() == 0) return Status::Ok();
  Status st = DispatchWithHalf<false>(x->dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    Run<T>(f, x->data<T>(), window ? window->data<T>() : nullptr, y.data<T>(), ctx.num_threads);
    return Status::Ok();
  });
  return st.ok() ? st : ctx.Unsupported(st.message());
}

std::optional<Dims> InferStft(InferContext& ctx) {
  Dims dims(4);
  dims[3] = ir::Dim::Known(2);
  std::optional<int64_t> length;
  if (ctx.in(0).has_rank() && ctx.in(0).dims().size() == 3) {
    dims[0] = ctx.in(0).dims()[0];
    if (ctx.in(0).dims()[1].known()) length = ctx.in(0).dims()[1].value;
  }
  std::optional<int64_t> size = length;
  if (HasInput(ctx.node, 2)) {
    size.reset();
    const InferInput& w = ctx.in(2);
    if (w.has_rank() && w.dims().size() == 1 && w.dims()[0].known()) size = w.dims()[0].value;
  }
  if (HasInput(ctx.node, 3)) size = ConstScalar(ctx.in(3));
  const auto step = ConstScalar(ctx.in(1));
  const bool onesided = ctx.node.AttrInt("onesided", 1) != 0;
  if (size && *size >= 1) dims[2] = ir::Dim::Known(onesided ? *size / 2 + 1 : *size);
  if (size && length && step && *step >= 1 && *size >= 1 && *size <= *length)
    dims[1] = ir::Dim::Known((*length - *size) / *step + 1);
  return dims;
}

constexpr OpDef kOps[] = {
    {"STFT", Stft, InferStft},
};

}  // namespace

std::span<const OpDef> StftOps() { return kOps; }

}  // namespace supernova::ops
