// The element-wise activations that the cpu's FusedConv, oneDNN post-ops and cuDNN epilogues
// can apply after a convolution: one list, named once, so that the optimizer's fusion, the
// reference kernel and every provider agree on what an activation is and what its parameters
// mean.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace supernova::ops {

enum class ActivationKind : uint8_t {
  kNone,
  kRelu,
  kLeakyRelu,  // alpha (default 0.01)
  kClip,       // min, max (default -inf, +inf)
  kSigmoid,
  kHardSigmoid,  // alpha, beta (default 0.2, 0.5)
  kHardSwish,
  kTanh,
};

// An activation with its parameters, as a FusedConv carries it.
struct Activation {
  ActivationKind kind = ActivationKind::kNone;
  std::vector<float> params;  // in the order above; absent ones take their defaults
  float param(size_t i, float fallback) const { return i < params.size() ? params[i] : fallback; }
};

// The op name of an activation ("Relu", ...; "" for kNone), which is also how FusedConv's
// `activation` attribute spells it.
std::string_view ActivationName(ActivationKind kind);
// The activation of that name, or nullopt for a name that is none of them ("" is kNone).
std::optional<ActivationKind> ParseActivation(std::string_view name);
// A FusedConv's activation (attributes `activation`, `activation_params`), or nullopt when
// the attribute names no activation this runtime knows.
std::optional<Activation> FusedActivation(const ir::Node& fused_conv);
// The activation node `n` of `graph` computes, with its parameters read from its attributes
// (LeakyRelu alpha, HardSigmoid alpha and beta; Clip's bounds before opset 11) or, for Clip
// since opset 11, from constant float scalar inputs (an absent bound is the float limit, as
// the Clip kernel has it); nullopt for a node that is no activation, or a Clip whose bounds
// are computed.
std::optional<Activation> ActivationOf(const ir::Graph& graph, const ir::Node& n);

}  // namespace supernova::ops
