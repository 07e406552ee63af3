#include "ops/activation_kind.h"

#include <array>

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

}  // namespace supernova::ops
