// The shape arithmetic of numpy's matmul, which MatMul, MatMulInteger and QLinearMatMul share:
// 1-D operands promoted to matrices (the added dim dropped from the result), batch dims
// broadcast right-aligned, and where each batch's matrices start in A and B.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ops/infer.h"
#include "ops/kernel.h"

namespace supernova::ops {

struct MatMulPlan {
  int64_t m = 0, n = 0, k = 0;
  Shape y_shape;
  std::vector<int64_t> a_off, b_off;  // per batch, in elements of A and B
  int64_t batches() const { return static_cast<int64_t>(a_off.size()); }
};

// Errors (scalars, inner dims that differ, batch dims that do not broadcast) name the node.
Status PlanMatMul(const KernelContext& ctx, const Shape& a, const Shape& b, MatMulPlan* plan);

// Output dims of A x B from what inference knows of them (nullopt for 1-D operands or
// unknown ranks).
std::optional<Dims> MatMulDims(const InferInput& a, const InferInput& b);

}  // namespace supernova::ops
