// Dropout for inference: the output is the input and the optional mask keeps everything.
#include <cstdint>
#include <cstring>

#include "ops/op.h"

namespace supernova::ops {

Status Dropout(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  // From opset 12 ratio and training_mode are inputs. Training with a non-zero ratio needs
  // random masks, which inference runtimes do not reproduce.
  if (ctx.opset >= 12) {
    const Tensor* training = ctx.input(2);
    if (training && training->numel() > 0 && training->GetAsInt64(0) != 0) {
      const Tensor* ratio = ctx.input(1);
      const double r = ratio && ratio->numel() > 0 ? ratio->GetAsDouble(0) : 0.5;
      if (r != 0.0) return ctx.Unsupported("training_mode=true with a non-zero ratio");
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
