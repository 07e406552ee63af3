// Declarations of every cpu kernel. One op (or one family of ops sharing a file) per .cc file
// under ops/; registry.cc lists them in one table.
#pragma once

#include "providers/cpu/kernel.h"

namespace supernova::cpu::ops {

// --- data movement and shape (identity.cc, ...) ---
Status Identity(KernelContext& ctx);

// --- element-wise, activations, comparisons ---
// binary.cc
Status Add(KernelContext& ctx);
Status And(KernelContext& ctx);
Status BitShift(KernelContext& ctx);
Status Div(KernelContext& ctx);
Status Equal(KernelContext& ctx);
Status Greater(KernelContext& ctx);
Status GreaterOrEqual(KernelContext& ctx);
Status Less(KernelContext& ctx);
Status LessOrEqual(KernelContext& ctx);
Status Mod(KernelContext& ctx);
Status Mul(KernelContext& ctx);
Status Or(KernelContext& ctx);
Status PRelu(KernelContext& ctx);
Status Pow(KernelContext& ctx);
Status Sub(KernelContext& ctx);
Status Xor(KernelContext& ctx);
// cast.cc
Status Cast(KernelContext& ctx);
Status CastLike(KernelContext& ctx);
// dropout.cc
Status Dropout(KernelContext& ctx);
// softmax.cc
Status Hardmax(KernelContext& ctx);
Status LogSoftmax(KernelContext& ctx);
Status Softmax(KernelContext& ctx);
// unary.cc
Status Abs(KernelContext& ctx);
Status Acos(KernelContext& ctx);
Status Acosh(KernelContext& ctx);
Status Asin(KernelContext& ctx);
Status Asinh(KernelContext& ctx);
Status Atan(KernelContext& ctx);
Status Atanh(KernelContext& ctx);
Status Celu(KernelContext& ctx);
Status Ceil(KernelContext& ctx);
Status Clip(KernelContext& ctx);
Status Cos(KernelContext& ctx);
Status Cosh(KernelContext& ctx);
Status Elu(KernelContext& ctx);
Status Erf(KernelContext& ctx);
Status Exp(KernelContext& ctx);
Status Floor(KernelContext& ctx);
Status HardSigmoid(KernelContext& ctx);
Status HardSwish(KernelContext& ctx);
Status IsInf(KernelContext& ctx);
Status IsNaN(KernelContext& ctx);
Status LeakyRelu(KernelContext& ctx);
Status Log(KernelContext& ctx);
Status Neg(KernelContext& ctx);
Status Not(KernelContext& ctx);
Status Reciprocal(KernelContext& ctx);
Status Relu(KernelContext& ctx);
Status Round(KernelContext& ctx);
Status Selu(KernelContext& ctx);
Status Shrink(KernelContext& ctx);
Status Sigmoid(KernelContext& ctx);
Status Sign(KernelContext& ctx);
Status Sin(KernelContext& ctx);
Status Sinh(KernelContext& ctx);
Status Softplus(KernelContext& ctx);
Status Softsign(KernelContext& ctx);
Status Sqrt(KernelContext& ctx);
Status Tan(KernelContext& ctx);
Status Tanh(KernelContext& ctx);
Status ThresholdedRelu(KernelContext& ctx);
// variadic.cc
Status Expand(KernelContext& ctx);
Status Max(KernelContext& ctx);
Status Mean(KernelContext& ctx);
Status Min(KernelContext& ctx);
Status Sum(KernelContext& ctx);
Status Where(KernelContext& ctx);

// --- neural-network layers (conv.cc, conv_transpose.cc, gemm.cc, matmul.cc,
//     batch_normalization.cc, instance_normalization.cc, lrn.cc, pool.cc) ---
Status AveragePool(KernelContext& ctx);
Status BatchNormalization(KernelContext& ctx);
Status Conv(KernelContext& ctx);
Status ConvTranspose(KernelContext& ctx);
Status Gemm(KernelContext& ctx);
Status GlobalAveragePool(KernelContext& ctx);
Status GlobalMaxPool(KernelContext& ctx);
Status InstanceNormalization(KernelContext& ctx);
Status LRN(KernelContext& ctx);
Status MatMul(KernelContext& ctx);
Status MaxPool(KernelContext& ctx);
// fused_conv.cc: com.supernova FusedConv, made by the graph optimizer
Status FusedConv(KernelContext& ctx);

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
// resampling and detection
Status NonMaxSuppression(KernelContext& ctx);
Status Resize(KernelContext& ctx);
Status TopK(KernelContext& ctx);
Status Upsample(KernelContext& ctx);

}  // namespace supernova::cpu::ops
