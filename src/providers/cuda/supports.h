// What the cuda provider claims: one table of ops (supports.cc), each with the inputs it must
// read on the host at compile time and its attribute limits. Needs no device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "providers/cuda/ops.h"
#include "providers/provider.h"

namespace supernova::providers::cuda {

// Whether the provider runs `node`, and the reason when not ("dtype int64 for x",
// "Conv: 3-D kernels", "shape input not constant: shape").
Support SupportsNode(const ir::Graph& graph, const ir::Node& node);

// The integers of initializer `name` (any integer dtype), read on the host.
Result<std::vector<int64_t>> ConstantInts(const ir::Graph& graph, const std::string& name);
// The float32 scalar initializer `name`.
Result<float> ConstantFloat(const ir::Graph& graph, const std::string& name);

// The axes of Squeeze/Unsqueeze/ReduceMean: the `axes` attribute before `input_opset`, the
// constant input 1 from it on. *given is false when there are none.
Status ReadAxes(const ir::Graph& graph, const ir::Node& node, int64_t input_opset,
                std::vector<int64_t>* axes, bool* given);

}  // namespace supernova::providers::cuda
