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
    // An alias moves no bytes, so it takes strings.
    {.op_type = "Identity",
     .kernel = Identity,
     .infer = SameShape,
     .kind = OpKind::kDataMovement,
     .strings = true},
};

}  // namespace

std::span<const OpDef> IdentityOps() { return kOps; }

}  // namespace supernova::ops
