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
    {"Identity", Identity, SameShape, OpKind::kDataMovement},
};

}  // namespace

std::span<const OpDef> IdentityOps() { return kOps; }

}  // namespace supernova::ops
