#include "ops/op.h"

namespace supernova::ops {

// Identity aliases its input: no copy.
Status Identity(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (!x) return ctx.Error("missing input");
  ctx.SetOutput(0, *x);
  return Status::Ok();
}

namespace {
constexpr OpDef kOps[] = {
    {"Identity", Identity, SameShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> IdentityOps() { return kOps; }

}  // namespace supernova::ops
