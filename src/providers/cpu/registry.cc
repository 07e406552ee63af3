#include <algorithm>

#include "providers/cpu/kernel.h"
#include "providers/cpu/ops/ops.h"

namespace supernova::cpu {
namespace {

using namespace ops;  // NOLINT

// The one table of cpu kernels. Keep each group sorted by op name.
constexpr KernelDef kKernels[] = {
    // --- data movement and shape ---
    {"Identity", "", Identity},
    // --- element-wise, activations, comparisons ---
    // --- neural-network layers ---
    // --- shape manipulation, indexing, reductions, detection ---
    // resampling and detection
    {"NonMaxSuppression", "", NonMaxSuppression},
    {"Resize", "", Resize},
    {"TopK", "", TopK},
    {"Upsample", "", Upsample},
};

}  // namespace

const KernelDef* FindKernel(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  for (const KernelDef& k : kKernels)
    if (k.op_type == op_type && k.domain == domain) return &k;
  return nullptr;
}

std::span<const KernelDef> AllKernels() { return kKernels; }

}  // namespace supernova::cpu
