// SequenceMap (opset 17): runs its body once per element of the input sequence. Each body
// input is the element of that position of a sequence input (all of one length), or a tensor
// input as is; each body output, collected over the positions, makes one output sequence.
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/sequence.h"
#include "ops/subgraph.h"

namespace supernova::ops {
namespace {

Status SequenceMap(KernelContext& ctx) {
  SN_ASSIGN_OR_RETURN(const Value* first, SequenceInput(ctx, 0, "input_sequence"));
  SN_ASSIGN_OR_RETURN(BoundBody body, BoundBody::Bind(ctx, "body"));
  const size_t n_in = ctx.num_inputs();
  if (body.num_inputs() != n_in)
    return ctx.Error("body takes " + std::to_string(body.num_inputs()) + " inputs, the node has " +
                     std::to_string(n_in));
  if (body.num_outputs() != ctx.num_outputs())
    return ctx.Error("body returns " + std::to_string(body.num_outputs()) + " values for " +
                     std::to_string(ctx.num_outputs()) + " outputs");
  const size_t len = first->sequence().size();
  std::vector<Value> given(n_in);
  for (size_t k = 0; k < n_in; ++k) {
    given[k] = ctx.input_value(k);
    if (!given[k].defined()) return ctx.Error("input " + std::to_string(k) + " is missing");
    if (given[k].is_none())
      return ctx.Error("input " + std::to_string(k) + " is an empty optional");
    if (given[k].is_sequence() && given[k].sequence().size() != len)
      return ctx.Error("input " + std::to_string(k) + " has " +
                       std::to_string(given[k].sequence().size()) +
                       " elements, input_sequence has " + std::to_string(len));
  }
  std::vector<std::vector<Tensor>> collected(body.num_outputs());
  std::vector<Value> element(n_in);
  std::vector<const Value*> in(n_in);
  std::vector<Value> outs;
  for (size_t i = 0; i < len; ++i) {
    for (size_t k = 0; k < n_in; ++k) {
      element[k] = given[k].is_sequence() ? Value(given[k].sequence()[i]) : given[k];
      in[k] = &element[k];
    }
    SN_RETURN_IF_ERROR(body.Run(ctx, in, &outs, static_cast<int64_t>(i)));
    for (size_t j = 0; j < outs.size(); ++j) {
      if (!outs[j].is_tensor())
        return ctx.Error("body output " + std::to_string(j) + " is a " + outs[j].Describe() +
                         ", not a tensor");
      collected[j].push_back(outs[j].tensor());
    }
  }
  for (size_t j = 0; j < collected.size(); ++j) {
    DataType dtype = DeclaredBodyDtype(ctx.node, "body", j);
    if (!collected[j].empty()) dtype = collected[j][0].dtype();
    ctx.SetValue(j, Value::Sequence(dtype, std::move(collected[j])));
  }
  return Status::Ok();
}

// A sequence of what the body declares for its first output.
std::optional<Dims> InferSequenceMap(InferContext& ctx) {
  ctx.kind = ValueKind::kSequence;
  ctx.dtype = DeclaredBodyDtype(ctx.node, "body", 0);
  return std::nullopt;
}

constexpr OpDef kOps[] = {
    {"SequenceMap", SequenceMap, InferSequenceMap},
};

}  // namespace

std::span<const OpDef> SequenceMapOps() { return kOps; }

}  // namespace supernova::ops
