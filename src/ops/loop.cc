// Loop: runs its body while an iteration count stays below the trip count M and the
// condition holds (each optional: no M is no bound, no cond is always true, and then the
// condition the body returns is ignored, as the spec says). The body takes (iteration,
// condition, carried...) and returns (condition, carried..., scan...); the node returns the
// last carried values and each scan value of every iteration stacked along a new axis 0.
#include <limits>

#include "ops/iteration.h"
#include "ops/op.h"
#include "ops/subgraph.h"

namespace supernova::ops {
namespace {

Result<bool> ReadBool(const KernelContext& ctx, const Tensor& t, const std::string& what) {
  if (t.dtype() != DataType::kBool || t.numel() != 1)
    return ctx.Error(what + " must be one bool, got " + DataTypeName(t.dtype()) +
                     ShapeToString(t.shape()));
  return t.data<bool>()[0];
}

Status Loop(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(BoundBody body, BoundBody::Bind(ctx, "body"));
  const size_t given = ctx.node.inputs.size();
  const size_t carried_n = given > 2 ? given - 2 : 0;
  if (body.num_inputs() != 2 + carried_n)
    return ctx.Error("body takes " + std::to_string(body.num_inputs()) + " inputs, expected " +
                     std::to_string(2 + carried_n) + " (iteration, condition, " +
                     std::to_string(carried_n) + " carried)");
  if (body.num_outputs() < 1 + carried_n)
    return ctx.Error("body returns " + std::to_string(body.num_outputs()) +
                     " values, fewer than the condition and " + std::to_string(carried_n) +
                     " carried");
  const size_t scan_n = body.num_outputs() - 1 - carried_n;
  if (ctx.num_outputs() != carried_n + scan_n)
    return ctx.Error("node has " + std::to_string(ctx.num_outputs()) + " outputs, the body makes " +
                     std::to_string(carried_n) + " carried and " + std::to_string(scan_n) +
                     " scan values");

  int64_t trip = std::numeric_limits<int64_t>::max();
  if (const Tensor* m = ctx.input(0)) {
    if (m->dtype() != DataType::kInt64 || m->numel() != 1)
      return ctx.Error("M must be one int64, got " + DataTypeName(m->dtype()) +
                       ShapeToString(m->shape()));
    trip = m->data<int64_t>()[0];
  }
  const bool has_cond = ctx.input(1) != nullptr;
  bool cond = true;
  if (has_cond) {
    SN_ASSIGN_OR_RETURN(cond, ReadBool(ctx, *ctx.input(1), "cond"));
  }

  // Carried values may be sequences or optionals (a list grown one element per iteration).
  std::vector<Value> carried(carried_n);
  for (size_t j = 0; j < carried_n; ++j) {
    carried[j] = ctx.input_value(2 + j);
    if (!carried[j].defined())
      return ctx.Error("loop-carried input " + std::to_string(j) + " is missing");
  }
  std::vector<std::vector<Tensor>> scans(scan_n);
  std::vector<const Value*> in(2 + carried_n);
  std::vector<Value> outs;
  for (int64_t i = 0; i < trip && cond; ++i) {
    // Fresh scalars each time: the body may return them, and an earlier scan value must not
    // change under the caller.
    Tensor iter_t(DataType::kInt64, {}, ctx.allocator());
    iter_t.data<int64_t>()[0] = i;
    Tensor cond_t(DataType::kBool, {}, ctx.allocator());
    cond_t.data<bool>()[0] = cond;
    const Value iter(std::move(iter_t)), cond_in(std::move(cond_t));
    in[0] = &iter;
    in[1] = &cond_in;
    for (size_t j = 0; j < carried_n; ++j) in[2 + j] = &carried[j];
    SN_RETURN_IF_ERROR(body.Run(ctx, in, &outs, i));
    if (has_cond) {
      SN_ASSIGN_OR_RETURN(cond, ReadBool(ctx, outs[0].tensor(), "the body's condition"));
    }
    for (size_t j = 0; j < carried_n; ++j) carried[j] = std::move(outs[1 + j]);
    for (size_t k = 0; k < scan_n; ++k) {
      Value& v = outs[1 + carried_n + k];
      if (!v.is_tensor())
        return ctx.Error("scan output " + std::to_string(k) + " is a " + v.Describe() +
                         ", not a tensor");
      scans[k].push_back(v.tensor());
    }
  }
  for (size_t j = 0; j < carried_n; ++j) ctx.SetValue(j, std::move(carried[j]));
  const ir::Graph& g = body.graph();
  for (size_t k = 0; k < scan_n; ++k) {
    if (!ctx.output_wanted(carried_n + k)) continue;
    const std::string& name = g.outputs[1 + carried_n + k];
    SN_ASSIGN_OR_RETURN(Tensor stacked, Stack(ctx, scans[k], 0, false, g.TypeOf(name),
                                              "scan output '" + name + "'"));
    ctx.SetOutput(carried_n + k, std::move(stacked));
  }
  return Status::Ok();
}

// The dtype the body declares for its first carried value (or, without one, its first scan
// value); shapes may change from one iteration to the next.
std::optional<Dims> InferLoop(InferContext& ctx) {
  ctx.dtype = DeclaredBodyDtype(ctx.node, "body", 1);
  ctx.kind = DeclaredBodyKind(ctx.node, "body", 1);
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"Loop", Loop, InferLoop},
};

}  // namespace

std::span<const OpDef> LoopOps() { return kOps; }

}  // namespace supernova::ops
