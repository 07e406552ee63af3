#include "ops/op.h"

namespace supernova::ops {

// Identity aliases its input: no copy. Opsets 14 and 16 let it pass sequences and optionals.
Status Identity(KernelContext& ctx) {
  Value x = ctx.input_value(0);
  if (!x.defined()) return ctx.Error("missing input");
  ctx.SetValue(0, std::move(x));
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
