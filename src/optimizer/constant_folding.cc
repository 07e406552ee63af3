// Constant folding: a node whose every input is known before the first run computes the same
// tensor on every run, so it is computed once here, with the cpu reference kernels, and
// becomes an initializer. Matches Constant nodes, nodes whose inputs are all initializers, and
// Shape/Size of values whose shape is statically known (their data is not needed).
//
// Left alone: nodes producing a graph output or a value read inside a subgraph (their names
// must stay values, not initializers), control flow (If/Loop/Scan), ops whose OpDef says they
// are not deterministic (the random ops: folding would freeze one draw into the model), ops whose
// kernel fails (the failure belongs to the run, where the user sees it), results larger than
// kMaxFoldedBytes (folding a Tile or Expand of a small constant would bloat the model), and a
// QDQ model's DequantizeLinear of a weight (the cpu provider runs the integers).
#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "ops/op.h"
#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

constexpr size_t kMaxFoldedBytes = size_t{16} << 20;

// The process heap, refusing any one tensor over kMaxFoldedBytes: a kernel whose output size
// inference could not know (a constant shape input asking for terabytes) gets std::bad_alloc
// at once instead of the memory, which overcommit might grant and the kernel then fill.
class FoldingAllocator : public Allocator {
 public:
  void* Allocate(size_t bytes) override {
    return bytes > kMaxFoldedBytes ? nullptr : DefaultAllocator()->Allocate(bytes);
  }
  void Free(void* p, size_t bytes) override { DefaultAllocator()->Free(p, bytes); }
  bool Reserve(size_t bytes) override { return bytes <= kMaxFoldedBytes; }
};

bool IsNondeterministic(const ir::Node& n) {
  if (const ops::OpDef* def = ops::FindOp(n); def && !def->deterministic) return true;
  // A Dropout that may train draws a fresh mask each run unless seeded (ops/dropout.cc).
  return n.op_type == "Dropout" && !n.HasAttr("seed") && n.inputs.size() > 2 &&
         !n.inputs[2].empty();
}

bool HasSubgraph(const ir::Node& n) {
  for (const auto& [key, a] : n.attributes)
    if (a.kind == ir::Attribute::Kind::kGraph) return true;
  return false;
}

// Shape and Size read only their input's shape.
bool ReadsOnlyShape(const ir::Node& n) { return IsOnnxOp(n, "Shape") || IsOnnxOp(n, "Size"); }

// The node's inputs, when all are available now: initializers, or (for Shape/Size) a data-less
// tensor of the input's static shape. Empty optional inputs are nullptr.
bool CollectInputs(const ir::Graph& g, const ir::Node& n, std::vector<Tensor>* storage,
                   std::vector<const Tensor*>* inputs) {
  storage->reserve(n.inputs.size());
  for (const std::string& in : n.inputs) {
    if (in.empty()) {
      inputs->push_back(nullptr);
    } else if (const Tensor* t = FindConstant(g, in)) {
      inputs->push_back(t);
    } else if (ReadsOnlyShape(n)) {
      const ir::ValueType* vt = g.TypeOf(in);
      if (!vt || !vt->HasStaticShape()) return false;
      // The kernel reads dims only, so the view needs no memory behind it.
      storage->push_back(Tensor::Wrap(vt->dtype, vt->StaticShape(), nullptr, nullptr));
      inputs->push_back(&storage->back());
    } else {
      return false;
    }
  }
  while (!inputs->empty() && inputs->back() == nullptr) inputs->pop_back();
  return true;
}

bool TooBig(const ir::Graph& g, const std::string& value) {
  const ir::ValueType* vt = g.TypeOf(value);
  if (!vt || !vt->HasStaticShape()) return false;
  const int64_t n = NumElements(vt->StaticShape());
  const size_t elem = DataTypeSize(vt->dtype);
  return n > 0 && elem > 0 && static_cast<size_t>(n) > kMaxFoldedBytes / elem;
}

// A QDQ model's weight: DequantizeLinear of a constant read by a product (Conv, Gemm, ...).
// Folded, it would become float and the int8 primitives would lose its integers.
bool QuantizedWeight(const ir::Graph& g, const ir::Node& n) {
  if (!IsOnnxOp(n, "DequantizeLinear") || n.outputs.empty()) return false;
  for (const ir::Node& reader : g.nodes) {
    const std::string& op = reader.op_type;
    if ((op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul" ||
         op == "FusedConv") &&
        std::find(reader.inputs.begin(), reader.inputs.end(), n.outputs[0]) != reader.inputs.end())
      return true;
  }
  return false;
}

}  // namespace

Result<int> FoldConstants(ir::Graph& g) {
  GraphEditor e(g);
  // Memory for folded tensors: the process heap, which outlives the session; each folded
  // tensor's buffer keeps this allocator alive.
  const auto heap = std::make_shared<FoldingAllocator>();
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    const ir::Node& n = e.node(i);
    if (n.outputs.empty() || HasSubgraph(n) || IsNondeterministic(n)) continue;
    if (n.inputs.empty() && !IsOnnxOp(n, "Constant")) continue;
    if (QuantizedWeight(g, n)) continue;
    bool pinned = false, too_big = false;
    for (const std::string& out : n.outputs) {
      pinned |= !out.empty() && e.IsPinned(out);
      too_big |= !out.empty() && TooBig(g, out);
    }
    if (pinned || too_big) continue;
    const ops::OpDef* def = ops::FindOp(n);
    if (!def) continue;
    std::vector<Tensor> storage;
    std::vector<const Tensor*> inputs;
    if (!CollectInputs(g, n, &storage, &inputs)) continue;

    ops::KernelContext ctx(n, g.Opset(n.domain), std::move(inputs), heap, /*num_threads=*/1);
    Status s;
    try {
      s = ops::RunKernel(*def, ctx);
    } catch (const std::bad_alloc&) {
      continue;  // too large to fold; the run will find out whether it fits
    }
    if (!s.ok()) continue;
    bool usable = true;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      const Tensor& t = ctx.outputs()[k];
      usable &= t.defined() && t.nbytes() <= kMaxFoldedBytes;
    }
    if (!usable) continue;
    const std::vector<std::string> outputs = n.outputs;
    e.RemoveNode(i);
    for (size_t k = 0; k < outputs.size(); ++k)
      if (!outputs[k].empty()) AddInitializer(g, outputs[k], std::move(ctx.outputs()[k]));
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer
