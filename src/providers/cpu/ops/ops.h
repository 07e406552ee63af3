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
// resampling and detection
Status NonMaxSuppression(KernelContext& ctx);
Status Resize(KernelContext& ctx);
Status TopK(KernelContext& ctx);
Status Upsample(KernelContext& ctx);

}  // namespace supernova::cpu::ops
