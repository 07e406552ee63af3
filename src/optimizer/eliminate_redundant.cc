// Redundant-node elimination: nodes whose output is their input's data, and pairs of nodes
// that one node (or none) can replace. Matches, in one forward walk:
//   Identity                           -> removed
//   Dropout (inference, mask unused)   -> removed
//   Cast to the input's own type       -> removed
//   Reshape to the input's own shape   -> removed (both shapes statically known)
//   Reshape(view-op(x), s)             -> Reshape(x, s) when s has no 0 (a 0 copies a dim of
//                                         the Reshape's input, which the rewrite changes);
//                                         view-op is Reshape, Flatten, Squeeze or Unsqueeze
//   Transpose(Transpose(x, p), q)      -> x when the permutations cancel, else
//                                         Transpose(x, p∘q)
// None changes arithmetic. A removed node's output that is a graph output keeps its name: the
// producer of its input is renamed instead, or the node stays (GraphEditor::Bypass).
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

bool IsViewOp(const ir::Node& n) {
  return IsOnnxOp(n, "Reshape") || IsOnnxOp(n, "Flatten") || IsOnnxOp(n, "Squeeze") ||
         IsOnnxOp(n, "Unsqueeze");
}

// Removes the producer of `value` when nothing reads it any more.
void DropIfUnread(GraphEditor& e, const std::string& value) {
  const size_t p = e.Producer(value);
  if (p == kNoNode || e.IsPinned(value) || !e.Consumers(value).empty()) return;
  for (const std::string& out : e.node(p).outputs)
    if (!out.empty() && (e.IsPinned(out) || !e.Consumers(out).empty())) return;
  e.RemoveNode(p);
}

bool MatchDropout(const GraphEditor& e, const ir::Graph& g, const ir::Node& n) {
  if (!OnlyFirstOutputUsed(e, n)) return false;
  // From opset 12 training_mode is input 2; absent or constant false means inference.
  if (g.Opset() >= 12 && n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Tensor* t = FindConstant(g, n.inputs[2]);
    if (!t || t->numel() != 1 || t->GetAsInt64(0) != 0) return false;
  }
  return true;
}

bool MatchSameTypeCast(const ir::Graph& g, const ir::Node& n) {
  const ir::ValueType* in = g.TypeOf(n.inputs[0]);
  return in && in->dtype != DataType::kUndefined &&
         static_cast<int64_t>(in->dtype) == n.AttrInt("to", -1);
}

bool MatchSameShapeReshape(const ir::Graph& g, const ir::Node& n) {
  if (n.outputs.empty()) return false;
  const auto in = StaticShape(g, n.inputs[0]);
  const auto out = StaticShape(g, n.outputs[0]);
  return in && out && *in == *out;
}

// The permutation of a Transpose: its attribute, or reversed axes (the default) when the rank
// is known from `rank_hint` (> 0) or the input's type.
std::optional<std::vector<int64_t>> Perm(const ir::Graph& g, const ir::Node& n, size_t rank_hint) {
  if (n.HasAttr("perm")) return n.AttrInts("perm");
  size_t rank = rank_hint;
  if (rank == 0) {
    const ir::ValueType* vt = g.TypeOf(n.inputs[0]);
    if (!vt || !vt->dims) return std::nullopt;
    rank = vt->dims->size();
  }
  std::vector<int64_t> p(rank);
  std::iota(p.rbegin(), p.rend(), 0);
  return p;
}

bool IsPermutation(const std::vector<int64_t>& p) {
  std::vector<bool> seen(p.size(), false);
  for (int64_t v : p) {
    if (v < 0 || v >= static_cast<int64_t>(p.size()) || seen[v]) return false;
    seen[v] = true;
  }
  return true;
}

// Transpose(Transpose(x, p), q): output axis i is inner axis q[i], which is x's axis p[q[i]].
bool FoldTransposePair(GraphEditor& e, ir::Graph& g, size_t outer) {
  const std::string mid = e.node(outer).inputs[0];
  const size_t inner = e.Producer(mid);
  if (inner == kNoNode || !IsOnnxOp(e.node(inner), "Transpose")) return false;
  const auto p = Perm(g, e.node(inner), 0);
  const auto q = p ? Perm(g, e.node(outer), p->size()) : std::nullopt;
  if (!p || !q || p->size() != q->size() || !IsPermutation(*p) || !IsPermutation(*q)) return false;
  std::vector<int64_t> composed(q->size());
  bool identity = true;
  for (size_t i = 0; i < q->size(); ++i) {
    composed[i] = (*p)[static_cast<size_t>((*q)[i])];
    identity &= composed[i] == static_cast<int64_t>(i);
  }
  const std::string x = e.node(inner).inputs[0];
  if (identity) {
    if (!e.Bypass(outer, x, e.node(outer).outputs[0])) return false;
  } else {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = composed;
    e.node(outer).attributes["perm"] = a;
    e.SetInput(outer, 0, x);
  }
  DropIfUnread(e, mid);
  return true;
}

// Reshape(view(x), s) -> Reshape(x, s): a fully given target shape ignores the input's shape.
bool FoldReshapeChain(GraphEditor& e, ir::Graph& g, size_t outer) {
  const ir::Node& n = e.node(outer);
  if (n.inputs.size() < 2) return false;  // opset < 5: shape attribute, not worth matching
  const std::string mid = n.inputs[0];
  const size_t inner = e.Producer(mid);
  if (inner == kNoNode || !IsViewOp(e.node(inner))) return false;
  const auto shape = ConstantInts(g, n.inputs[1]);
  if (!shape) return false;
  for (int64_t d : *shape)
    if (d == 0) return false;
  e.SetInput(outer, 0, e.node(inner).inputs[0]);
  DropIfUnread(e, mid);
  return true;
}

}  // namespace

Result<int> EliminateRedundantNodes(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i)) continue;
    const ir::Node& n = e.node(i);
    if (n.inputs.empty() || n.inputs[0].empty() || n.outputs.empty() || n.outputs[0].empty())
      continue;
    bool bypass = false;
    if (IsOnnxOp(n, "Identity")) {
      bypass = true;
    } else if (IsOnnxOp(n, "Dropout")) {
      bypass = MatchDropout(e, g, n);
    } else if (IsOnnxOp(n, "Cast")) {
      bypass = MatchSameTypeCast(g, n);
    } else if (IsOnnxOp(n, "Reshape")) {
      if (MatchSameShapeReshape(g, n)) {
        bypass = true;
      } else if (FoldReshapeChain(e, g, i)) {
        ++changes;
        // The rewritten Reshape may now be a no-op of x.
        const std::string in = e.node(i).inputs[0], out = e.node(i).outputs[0];
        if (MatchSameShapeReshape(g, e.node(i)) && e.Bypass(i, in, out)) ++changes;
        continue;
      }
    } else if (IsOnnxOp(n, "Transpose")) {
      if (FoldTransposePair(e, g, i)) ++changes;
      continue;
    }
    if (!bypass) continue;
    const std::string in = n.inputs[0], out = n.outputs[0];
    if (e.Bypass(i, in, out)) ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer
