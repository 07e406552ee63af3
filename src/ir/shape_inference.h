// Static shape inference over the IR: fills Graph::value_types for node outputs from the
// types of graph inputs and initializers, with symbolic dims carried through where an op
// preserves them. Unknown stays unknown; inference never fails a model that runs.
#pragma once

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::ir {

// Infers output types of every node whose rule is known. Returns the number of values whose
// type was newly set or refined.
size_t InferShapes(Graph& graph);

}  // namespace supernova::ir
