// Declarations of every cpu kernel. One op (or one family of ops sharing a file) per .cc file
// under ops/; registry.cc lists them in one table.
#pragma once

#include "providers/cpu/kernel.h"

namespace supernova::cpu::ops {

// --- data movement and shape (identity.cc, ...) ---
Status Identity(KernelContext& ctx);

// --- element-wise, activations, comparisons ---

// --- neural-network layers ---

// --- shape manipulation, indexing, reductions, detection ---
Status ArgMax(KernelContext& ctx);           // reduce.cc
Status ArgMin(KernelContext& ctx);           // reduce.cc
Status Compress(KernelContext& ctx);         // compress.cc
Status Concat(KernelContext& ctx);           // concat.cc
Status Constant(KernelContext& ctx);         // constant.cc
Status ConstantOfShape(KernelContext& ctx);  // constant.cc
Status CumSum(KernelContext& ctx);           // cumsum.cc
Status DepthToSpace(KernelContext& ctx);     // depth_to_space.cc
Status EyeLike(KernelContext& ctx);          // constant.cc
Status Flatten(KernelContext& ctx);          // reshape.cc
Status Gather(KernelContext& ctx);           // gather.cc
Status GatherElements(KernelContext& ctx);   // gather.cc
Status GatherND(KernelContext& ctx);         // gather_nd.cc
Status NonZero(KernelContext& ctx);          // nonzero.cc
Status OneHot(KernelContext& ctx);           // onehot.cc
Status Pad(KernelContext& ctx);              // pad.cc
Status Range(KernelContext& ctx);            // constant.cc
Status ReduceL1(KernelContext& ctx);         // reduce.cc
Status ReduceL2(KernelContext& ctx);         // reduce.cc
Status ReduceLogSum(KernelContext& ctx);     // reduce.cc
Status ReduceLogSumExp(KernelContext& ctx);  // reduce.cc
Status ReduceMax(KernelContext& ctx);        // reduce.cc
Status ReduceMean(KernelContext& ctx);       // reduce.cc
Status ReduceMin(KernelContext& ctx);        // reduce.cc
Status ReduceProd(KernelContext& ctx);       // reduce.cc
Status ReduceSum(KernelContext& ctx);        // reduce.cc
Status ReduceSumSquare(KernelContext& ctx);  // reduce.cc
Status Reshape(KernelContext& ctx);          // reshape.cc
Status ReverseSequence(KernelContext& ctx);  // reverse_sequence.cc
Status ScatterElements(KernelContext& ctx);  // gather.cc (also serves deprecated Scatter)
Status ScatterND(KernelContext& ctx);        // gather_nd.cc
Status ShapeOp(KernelContext& ctx);          // shape.cc ("Shape" would hide supernova::Shape)
Status Size(KernelContext& ctx);             // shape.cc
Status Slice(KernelContext& ctx);            // slice.cc
Status SpaceToDepth(KernelContext& ctx);     // depth_to_space.cc
Status Split(KernelContext& ctx);            // split.cc
Status Squeeze(KernelContext& ctx);          // reshape.cc
Status Tile(KernelContext& ctx);             // tile.cc
Status Transpose(KernelContext& ctx);        // transpose.cc
Status Trilu(KernelContext& ctx);            // trilu.cc
Status Unique(KernelContext& ctx);           // unique.cc
Status Unsqueeze(KernelContext& ctx);        // reshape.cc

}  // namespace supernova::cpu::ops
