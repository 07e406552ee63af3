#include "ops/shape_inference.h"

#include "common/element_count.h"

#include "ops/op.h"

namespace supernova::ops {
namespace {

// Whether the known dims alone already count more elements than any tensor may hold
// (kMaxTensorElements): a constant shape input asking for exabytes, or for more than an
// int64 can count.
bool BeyondAnyTensor(const Dims& dims) {
  Shape known;
  for (const ir::Dim& d : dims)
    if (d.known()) known.push_back(d.value);
  return CheckedNumElements(known) < 0;
}

}  // namespace

size_t InferShapes(ir::Graph& graph) {
  size_t changed = 0;
  // Initializers made after import (hoisted or folded constants) have no declared type yet.
  for (const auto& [name, t] : graph.initializers) {
    ir::ValueType& vt = graph.value_types[name];
    if (vt.dtype != DataType::kUndefined && vt.dims) continue;
    vt.dtype = t.dtype();
    vt.dims.emplace();
    for (int64_t d : t.shape()) vt.dims->push_back(ir::Dim::Known(d));
    ++changed;
  }
  std::vector<InferInput> ins;
  for (const ir::Node& n : graph.nodes) {
    const OpDef* def = FindOp(n);
    if (!def || !def->infer || n.outputs.empty() || n.outputs[0].empty()) continue;
    ins.assign(n.inputs.size(), InferInput{});
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i].empty()) continue;
      ins[i].type = graph.TypeOf(n.inputs[i]);
      auto it = graph.initializers.find(n.inputs[i]);
      if (it != graph.initializers.end()) ins[i].constant = &it->second;
    }
    InferContext ctx{n, ins, graph.Opset(n.domain),
                     !ins.empty() && ins[0].type ? ins[0].type->dtype : DataType::kUndefined};
    if (!ins.empty() && ins[0].type) ctx.kind = ins[0].type->kind;
    std::optional<Dims> dims = def->infer(ctx);
    ir::ValueType& out = graph.value_types[n.outputs[0]];
    if (ctx.kind != ValueKind::kTensor && out.kind == ValueKind::kTensor && !out.dims) {
      out.kind = ctx.kind;
      ++changed;
    }
    if (!out.is_tensor()) dims.reset();
    // Declared types from the file win where they say more.
    if (out.dtype == DataType::kUndefined && ctx.dtype != DataType::kUndefined) {
      out.dtype = ctx.dtype;
      ++changed;
    }
    if (!dims) continue;
    // Such a size is left to the run, whose allocation fails with a Status: as a known
    // shape it would be a promise constant folding and the planner size memory by, and
    // products of it overflow.
    if (BeyondAnyTensor(*dims))
      for (ir::Dim& d : *dims) d = ir::Dim{};
    if (!out.dims) {
      out.dims = std::move(dims);
      ++changed;
    } else if (out.dims->size() == dims->size()) {
      for (size_t i = 0; i < dims->size(); ++i)
        if (!(*out.dims)[i].known() && (*dims)[i].known()) {
          (*out.dims)[i] = (*dims)[i];
          ++changed;
        }
    }
  }
  return changed;
}

}  // namespace supernova::ops
