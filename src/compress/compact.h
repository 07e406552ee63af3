// Export-time compaction. Constant folding materialises what a model computes from shapes:
// BlazeFace pads channels with ConstantOfShape zeros, which folding turns into 43 k stored
// zeros (+40 % file size). Before writing, every constant filled with one value is written back
// as ConstantOfShape, which any runtime expands again when it loads the model.
#pragma once

#include "ir/graph.h"

namespace supernova::compress {

// Replaces initializers of at least `min_elements` elements that hold one repeated value (and
// are not graph inputs or outputs, nor a QuantizeLinear's or DequantizeLinear's scale or zero
// point) with ConstantOfShape nodes. Needs opset 9; a no-op before.
// Returns how many it replaced. The graph stays topologically sorted.
int CompactConstants(ir::Graph& g, int64_t min_elements = 64);

}  // namespace supernova::compress
