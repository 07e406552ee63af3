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

// --- neural-network layers ---

// --- shape manipulation, indexing, reductions, detection ---

}  // namespace supernova::cpu::ops
