// What Loop and Scan share: one slice of a tensor along an axis per iteration, and the
// iterations' outputs stacked along an axis.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "ops/kernel.h"

namespace supernova::ops {

// x[..., index, ...] with `axis` removed (a copy, from ctx's allocator).
Tensor SliceAlong(const KernelContext& ctx, const Tensor& x, size_t axis, int64_t index);

// The `parts` (all of one dtype and shape) stacked along a new axis `axis` of the result
// (negative counts from the end, as in Scan's scan_output_axes), the last part first when
// `reverse`. With no parts, an empty tensor shaped from `declared`, the body output's declared
// type ([0] when its rank is unknown). Errors name ctx's node and `what`.
Result<Tensor> Stack(const KernelContext& ctx, const std::vector<Tensor>& parts, int64_t axis,
                     bool reverse, const ir::ValueType* declared, const std::string& what);

}  // namespace supernova::ops
