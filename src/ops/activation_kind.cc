#include "ops/activation_kind.h"

#include <array>
#include <limits>

#include "ops/op.h"

namespace supernova::ops {
namespace {

constexpr std::array<std::pair<ActivationKind, std::string_view>, 8> kNames = {{
    {ActivationKind::kNone, ""},
    {ActivationKind::kRelu, "Relu"},
    {ActivationKind::kLeakyRelu, "LeakyRelu"},
    {ActivationKind::kClip, "Clip"},
    {ActivationKind::kSigmoid, "Sigmoid"},
    {ActivationKind::kHardSigmoid, "HardSigmoid"},
    {ActivationKind::kHardSwish, "HardSwish"},
    {ActivationKind::kTanh, "Tanh"},
}};

}  // namespace

std::string_view ActivationName(ActivationKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "";
}

std::optional<ActivationKind> ParseActivation(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return std::nullopt;
}

std::optional<Activation> FusedActivation(const ir::Node& fused_conv) {
  auto kind = ParseActivation(fused_conv.AttrString("activation", ""));
  if (!kind) return std::nullopt;
  return Activation{*kind, fused_conv.AttrFloats("activation_params")};
}

std::optional<Activation> ActivationOf(const ir::Graph& graph, const ir::Node& n) {
  const OpDef* def = FindOp(n);
  if (!def || def->activation == ActivationKind::kNone) return std::nullopt;
  Activation a{def->activation, {}};
  switch (def->activation) {
    case ActivationKind::kLeakyRelu:
      a.params = {n.AttrFloat("alpha", 0.01f)};
      break;
    case ActivationKind::kHardSigmoid:
      a.params = {n.AttrFloat("alpha", 0.2f), n.AttrFloat("beta", 0.5f)};
      break;
    case ActivationKind::kClip: {
      constexpr float kLo = std::numeric_limits<float>::lowest();
      constexpr float kHi = std::numeric_limits<float>::max();
      if (graph.Opset(n.domain) < 11) {  // bounds are attributes
        a.params = {n.AttrFloat("min", kLo), n.AttrFloat("max", kHi)};
        break;
      }
      for (size_t slot : {size_t{1}, size_t{2}}) {
        if (n.inputs.size() <= slot || n.inputs[slot].empty()) {
          a.params.push_back(slot == 1 ? kLo : kHi);
          continue;
        }
        auto it = graph.initializers.find(n.inputs[slot]);
        if (it == graph.initializers.end()) return std::nullopt;
        const Tensor& t = it->second;
        if (t.dtype() != DataType::kFloat32 || t.numel() > 1) return std::nullopt;
        a.params.push_back(t.numel() == 0 ? (slot == 1 ? kLo : kHi) : t.data<float>()[0]);
      }
      break;
    }
    default:
      break;
  }
  return a;
}

}  // namespace supernova::ops
