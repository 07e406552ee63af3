// Dropout. In inference (every opset before 12, and from 12 unless training_mode is true) the
// output is the input and the optional mask keeps everything. In training mode each element
// is kept with probability 1 - ratio and scaled by 1 / (1 - ratio).
//
// The spec leaves the generator open. Ours is ops/random_source.h seeded with the `seed`
// attribute (a random seed without it), drawing one uniform double per element in row-major
// order and keeping the element when the draw is >= ratio: the ONNX reference
// implementation's recipe, so a seeded node reproduces the masks of ONNX's tests. The
// generator is seeded afresh on every run: a seeded node gives the same mask each time.
#include <cstdint>
#include <cstring>
#include <string>

#include "ops/dispatch.h"
#include "ops/half_bridge.h"
#include "ops/op.h"
#include "ops/random_source.h"

namespace supernova::ops {
namespace {

Status TrainingDropout(KernelContext& ctx, const Tensor& x, double ratio) {
  if (!(ratio >= 0.0 && ratio < 1.0))
    return ctx.Error("ratio " + std::to_string(ratio) + " is outside [0, 1)");
  const uint32_t seed = ctx.node.HasAttr("seed")
                            ? static_cast<uint32_t>(ctx.node.AttrInt("seed", 0))
                            : RandomSource::FreshSeed();
  RandomSource gen(seed);
  Tensor& y = ctx.Output(0, x.dtype(), x.shape());
  bool* mask =
      ctx.output_wanted(1) ? ctx.Output(1, DataType::kBool, x.shape()).data<bool>() : nullptr;
  Status st = DispatchFloat(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T scale = static_cast<T>(1.0 / (1.0 - ratio));
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
      const bool keep = gen.Uniform() >= ratio;
      py[i] = keep ? px[i] * scale : T(0);
      if (mask) mask[i] = keep;
    }
    return Status::Ok();
  });
  return st.ok() ? st : st.WithContext(ctx.node.Label());
}

}  // namespace

Status Dropout(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  // From opset 12 ratio and training_mode are inputs; training with ratio 0 keeps everything.
  if (ctx.opset >= 12) {
    const Tensor* training = ctx.input(2);
    if (training && training->numel() > 0 && training->GetAsInt64(0) != 0) {
      const Tensor* ratio = ctx.input(1);
      const double r = ratio && ratio->numel() > 0 ? ratio->GetAsDouble(0) : 0.5;
      if (r != 0.0) {
        if (IsHalf(x->dtype())) return RunWidened(ctx, Dropout);
        return TrainingDropout(ctx, *x, r);
      }
    }
  }
  ctx.SetOutput(0, *x);
  if (ctx.output_wanted(1)) {
    // Opsets 7-9 type the mask like the input; from opset 10 it is bool.
    if (ctx.opset < 10) {
      if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64)
        return ctx.Unsupported("mask of dtype " + DataTypeName(x->dtype()));
      Tensor& mask = ctx.Output(1, x->dtype(), x->shape());
      if (x->dtype() == DataType::kFloat32) {
        float* m = mask.data<float>();
        for (int64_t i = 0, n = mask.numel(); i < n; ++i) m[i] = 1.0f;
      } else {
        double* m = mask.data<double>();
        for (int64_t i = 0, n = mask.numel(); i < n; ++i) m[i] = 1.0;
      }
    } else {
      Tensor& mask = ctx.Output(1, DataType::kBool, x->shape());
      std::memset(mask.raw_data(), 1, mask.nbytes());
    }
  }
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"Dropout", Dropout, SameShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> DropoutOps() { return kOps; }

}  // namespace supernova::ops
