// Declarations of every cpu kernel. One op (or one family of ops sharing a file) per .cc file
// under ops/; registry.cc lists them in one table.
#pragma once

#include "providers/cpu/kernel.h"

namespace supernova::cpu::ops {

// --- data movement and shape (identity.cc, ...) ---
Status Identity(KernelContext& ctx);

// --- element-wise, activations, comparisons ---

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

// --- shape manipulation, indexing, reductions, detection ---

}  // namespace supernova::cpu::ops
