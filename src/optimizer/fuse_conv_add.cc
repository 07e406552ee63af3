// Conv + Add fusion: Add(Conv(x), z) -> FusedConv(x, W, B, Z = z), the residual connection of
// ResNet-style blocks. The kernel adds z while the conv output is still in cache, and the
// unfused graph's separate pass over memory (and its intermediate tensor) disappear.
//
// Matches an Add (either operand order) one of whose operands is the only use of a Conv's (or
// an activation-free, residual-free FusedConv's) float32 output, when the other operand is
// statically known to have exactly that shape: FusedConv adds element by element and never
// broadcasts. An activation after the Add is taken by fuse_conv_activation, which runs next.
#include <string>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {

Result<int> FuseConvAdd(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "Add")) continue;
    const ir::Node& add = e.node(i);
    if (add.inputs.size() != 2 || add.outputs.size() != 1 || add.outputs[0].empty()) continue;
    for (size_t side = 0; side < 2; ++side) {
      const std::string y = add.inputs[side], z = add.inputs[1 - side];
      if (y.empty() || z.empty() || !e.HasSingleUse(y)) continue;
      const size_t conv = e.Producer(y);
      if (conv == kNoNode) continue;
      const ir::Node& c = e.node(conv);
      if (!IsFusableConv(g, c) || HasActivation(c) || HasResidual(c)) continue;
      if (!SameShape(g, y, z)) continue;
      const ir::ValueType* zt = g.TypeOf(z);
      if (!zt || zt->dtype != DataType::kFloat32) continue;
      const std::string out = add.outputs[0];
      if (e.node(conv).inputs.size() < 3) e.SetInput(conv, 2, "");
      e.SetInput(conv, 3, z);
      MakeFusedConv(g, e.node(conv));
      e.RemoveNode(i);
      e.SetOutput(conv, 0, out);
      ++changes;
      break;
    }
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer
