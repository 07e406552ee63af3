#include "providers/cpu/ops/ops.h"

namespace supernova::cpu::ops {

// Identity aliases its input: no copy.
Status Identity(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  ctx.SetOutput(0, *x);
  return Status::Ok();
}

}  // namespace supernova::cpu::ops
