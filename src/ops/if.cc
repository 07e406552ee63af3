// If: runs one of two bodies, chosen by a boolean, and returns that body's outputs. The two
// branches may differ in the shapes they return (opset 11 on); the node's outputs are those
// of the branch taken.
#include "ops/op.h"
#include "ops/subgraph.h"

namespace supernova::ops {
namespace {

Status If(KernelContext& ctx) {
  const Tensor* cond = ctx.input(0);
  if (!cond) return ctx.Error("missing input 'cond'");
  if (cond->dtype() != DataType::kBool || cond->numel() != 1)
    return ctx.Error("cond must be one bool, got " + DataTypeName(cond->dtype()) +
                     ShapeToString(cond->shape()));
  const char* branch = cond->data<bool>()[0] ? "then_branch" : "else_branch";
  SN_ASSIGN_OR_RETURN(BoundBody body, BoundBody::Bind(ctx, branch));
  if (body.num_inputs() != 0)
    return ctx.Error(std::string(branch) + " must take no inputs, takes " +
                     std::to_string(body.num_inputs()));
  if (body.num_outputs() != ctx.num_outputs())
    return ctx.Error(std::string(branch) + " returns " + std::to_string(body.num_outputs()) +
                     " values for " + std::to_string(ctx.num_outputs()) + " outputs");
  std::vector<Value> outs;
  SN_RETURN_IF_ERROR(body.Run(ctx, std::span<const Value* const>(), &outs));
  for (size_t i = 0; i < outs.size(); ++i) ctx.SetValue(i, std::move(outs[i]));
  return Status::Ok();
}

// The dtype then_branch declares for its first output; the shape may differ between branches
// and is left to run time.
std::optional<Dims> InferIf(InferContext& ctx) {
  ctx.dtype = DeclaredBodyDtype(ctx.node, "then_branch", 0);
  ctx.kind = DeclaredBodyKind(ctx.node, "then_branch", 0);
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"If", If, InferIf},
};

}  // namespace

std::span<const OpDef> IfOps() { return kOps; }

}  // namespace supernova::ops
