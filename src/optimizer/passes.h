// Internal to the optimizer: the passes optimizer.cc runs, one per file. Each rewrites the
// graph in place and returns how many rewrites it made (0: graph untouched), or an internal
// error. Each may rely on g.value_types being current (Optimize runs shape inference before
// every round) and keeps the graph valid and topologically sorted.
#pragma once

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::optimizer {

// expand_qoperators.cc: QLinearConv and QLinearMatMul with constant weights and scales -> their
// QDQ form (DequantizeLinear, Conv or MatMul, QuantizeLinear), which runs in int8.
Result<int> ExpandQOperators(ir::Graph& g);
// constant_folding.cc: Constant nodes, nodes whose inputs are all initializers, and Shape of
// statically shaped values become initializers.
Result<int> FoldConstants(ir::Graph& g);
// dead_node_elimination.cc: nodes none of whose outputs reach a graph output, and
// initializers nothing reads.
Result<int> EliminateDeadNodes(ir::Graph& g);
// eliminate_redundant.cc: Identity, inference Dropout, Cast to the same type, Reshape to the
// same shape, Reshape-like chains ending in a Reshape, Transpose pairs (cancelled or composed).
Result<int> EliminateRedundantNodes(ir::Graph& g);
// fold_batch_norm.cc: BatchNormalization into a preceding Conv, ConvTranspose or Gemm.
Result<int> FoldBatchNorm(ir::Graph& g);
// fuse_hard_swish.cc: x * Clip(x + 3, 0, 6) / 6 in any of its written-out forms -> HardSwish.
Result<int> FuseHardSwish(ir::Graph& g);
// fuse_conv_add.cc: Conv + Add of a same-shaped tensor -> FusedConv with residual Z.
Result<int> FuseConvAdd(ir::Graph& g);
// fuse_conv_activation.cc: Conv (or FusedConv without activation) + activation -> FusedConv.
Result<int> FuseConvActivation(ir::Graph& g);
// fuse_dynamic_quant_matmul.cc: DynamicQuantizeLinear + MatMulInteger + Cast + Mul by the scales
// (+ Add of a bias) -> DynamicQuantMatMul.
Result<int> FuseDynamicQuantMatMul(ir::Graph& g);

// The com.supernova domain of the runtime's own fused ops, and its version.
inline constexpr const char* kSupernovaDomain = "com.supernova";
inline constexpr int64_t kSupernovaOpset = 1;

}  // namespace supernova::optimizer
