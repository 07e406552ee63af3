// Conv + activation fusion: act(Conv(x)) -> FusedConv(x, ...) with activation = act, applied
// in place while the conv output is still in cache. Also completes a FusedConv made by
// fuse_conv_add: act(Conv(x) + z).
//
// Matches Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, and Clip with constant (or
// absent) bounds, whose input is the only use of a Conv's or an activation-free FusedConv's
// float32 output. activation_params carries the op's parameters: LeakyRelu {alpha},
// HardSigmoid {alpha, beta}, Clip {min, max} (float limits when absent). The kernel computes the
// activation with the element-wise kernels' own functions, so results are bit-identical.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

// A float32 scalar bound of Clip (opset 11+), or `fallback` when the input is omitted.
std::optional<float> ClipBound(const ir::Graph& g, const ir::Node& n, size_t slot, float fallback) {
  if (n.inputs.size() <= slot || n.inputs[slot].empty()) return fallback;
  const Tensor* t = FindConstant(g, n.inputs[slot]);
  if (!t || t->dtype() != DataType::kFloat32 || t->numel() > 1) return std::nullopt;
  if (t->numel() == 0) return fallback;
  return t->data<float>()[0];
}

// The activation's name and parameters, when `n` is one FusedConv can apply.
std::optional<std::vector<float>> ActivationParams(const ir::Graph& g, const ir::Node& n) {
  if (n.domain != "" && n.domain != "ai.onnx") return std::nullopt;
  const std::string& op = n.op_type;
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish")
    return std::vector<float>{};
  if (op == "LeakyRelu") return std::vector<float>{n.AttrFloat("alpha", 0.01f)};
  if (op == "HardSigmoid")
    return std::vector<float>{n.AttrFloat("alpha", 0.2f), n.AttrFloat("beta", 0.5f)};
  if (op == "Clip") {
    // An absent bound is the type's limit, as the Clip kernel has it (so +inf becomes max).
    constexpr float kLo = std::numeric_limits<float>::lowest();
    constexpr float kHi = std::numeric_limits<float>::max();
    if (g.Opset() < 11)  // bounds are attributes
      return std::vector<float>{n.AttrFloat("min", kLo), n.AttrFloat("max", kHi)};
    const auto lo = ClipBound(g, n, 1, kLo), hi = ClipBound(g, n, 2, kHi);
    if (!lo || !hi) return std::nullopt;
    return std::vector<float>{*lo, *hi};
  }
  return std::nullopt;
}

}  // namespace

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
    if (!IsFusableConv(g, e.node(conv)) || !FusedActivation(e.node(conv)).empty()) continue;
    auto params = ActivationParams(g, act);
    if (!params) continue;
    const std::string kind = act.op_type;
    ir::Node& c = e.node(conv);
    MakeFusedConv(g, c);
    SetAttr(c, "activation", kind);
    SetAttr(c, "activation_params", std::move(*params));
    e.RemoveNode(i);
    e.SetOutput(conv, 0, out);
    ++changes;
  }
  SN_RETURN_IF_ERROR(e.Finish());
  return changes;
}

}  // namespace supernova::optimizer
