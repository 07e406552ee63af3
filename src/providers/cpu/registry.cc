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
    {"ArgMax", "", ArgMax},
    {"ArgMin", "", ArgMin},
    {"Compress", "", Compress},
    {"Concat", "", Concat},
    {"Constant", "", Constant},
    {"ConstantOfShape", "", ConstantOfShape},
    {"CumSum", "", CumSum},
    {"DepthToSpace", "", DepthToSpace},
    {"EyeLike", "", EyeLike},
    {"Flatten", "", Flatten},
    {"Gather", "", Gather},
    {"GatherElements", "", GatherElements},
    {"GatherND", "", GatherND},
    {"NonZero", "", NonZero},
    {"OneHot", "", OneHot},
    {"Pad", "", Pad},
    {"Range", "", Range},
    {"ReduceL1", "", ReduceL1},
    {"ReduceL2", "", ReduceL2},
    {"ReduceLogSum", "", ReduceLogSum},
    {"ReduceLogSumExp", "", ReduceLogSumExp},
    {"ReduceMax", "", ReduceMax},
    {"ReduceMean", "", ReduceMean},
    {"ReduceMin", "", ReduceMin},
    {"ReduceProd", "", ReduceProd},
    {"ReduceSum", "", ReduceSum},
    {"ReduceSumSquare", "", ReduceSumSquare},
    {"Reshape", "", Reshape},
    {"ReverseSequence", "", ReverseSequence},
    {"Scatter", "", ScatterElements},
    {"ScatterElements", "", ScatterElements},
    {"ScatterND", "", ScatterND},
    {"Shape", "", ShapeOp},
    {"Size", "", Size},
    {"Slice", "", Slice},
    {"SpaceToDepth", "", SpaceToDepth},
    {"Split", "", Split},
    {"Squeeze", "", Squeeze},
    {"Tile", "", Tile},
    {"Transpose", "", Transpose},
    {"Trilu", "", Trilu},
    {"Unique", "", Unique},
    {"Unsqueeze", "", Unsqueeze},
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
