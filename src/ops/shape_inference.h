// Static shape inference over the IR: fills Graph::value_types for node outputs from the
// types of graph inputs and initializers, with symbolic dims carried through where an op
// preserves them, by the rule each op registers (ops/op.h, ops/infer.h). Unknown stays
// unknown; inference never fails a model that runs.
#pragma once

#include "ir/graph.h"

namespace supernova::ops {

// Infers the first output of every node whose op has a rule, and the types of initializers.
// Returns the number of values whose type was newly set or refined.
size_t InferShapes(ir::Graph& graph);

}  // namespace supernova::ops
