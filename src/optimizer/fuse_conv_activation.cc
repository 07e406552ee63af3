// Conv + activation fusion: act(Conv(x)) -> FusedConv(x, ...) with activation = act, applied
// in place while the conv output is still in cache. Also completes a FusedConv made by
// fuse_conv_add: act(Conv(x) + z).
//
// Matches the ops registered as activations (ops/activation_kind.h: Relu, LeakyRelu, Sigmoid,
// Tanh, HardSigmoid, HardSwish, and Clip with constant or absent bounds), whose input is the
// only use of a Conv's or an activation-free FusedConv's float32 output. activation_params
// carries the op's parameters as ops::ActivationOf reads them. The kernel computes the
// activation with the element-wise kernels' own functions, so results are bit-identical.
#include <optional>
#include <string>
#include <vector>

#include "ops/activation_kind.h"
#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {}  // namespace

Result<int> FuseConvActivation(ir::Graph& g) {
  GraphEditor e(g);
  int changes = 0;
  for (size_t i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i)) continue;
    const ir::Node& act = e.node(i);
    if (act.inputs.empty() || act.outputs.size() != 1 || act.outputs[0].empty()) continue;
    const std::string y = act.inputs[0], out = act.outputs[0];
    if (y.empty() || !e.HasSingleUse(y)) continue;
    const size_t conv = e.Producer(y);
    if (conv == kNoNode) continue;
    if (!IsFusableConv(g, e.node(conv)) || HasActivation(e.node(conv))) continue;
    auto activation = ops::ActivationOf(g, act);
    if (!activation) continue;
    ir::Node& c = e.node(conv);
    MakeFusedConv(g, c);
    SetAttr(c, "activation", std::string(ops::ActivationName(activation->kind)));
    SetAttr(c, "activation_params", std::move(activation->params));
    e.RemoveNode(i);
    e.SetOutput(conv, 0, out);
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer
