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
    {"Abs", "", Abs},
    {"Acos", "", Acos},
    {"Acosh", "", Acosh},
    {"Add", "", Add},
    {"And", "", And},
    {"Asin", "", Asin},
    {"Asinh", "", Asinh},
    {"Atan", "", Atan},
    {"Atanh", "", Atanh},
    {"BitShift", "", BitShift},
    {"Cast", "", Cast},
    {"CastLike", "", CastLike},
    {"Ceil", "", Ceil},
    {"Celu", "", Celu},
    {"Clip", "", Clip},
    {"Cos", "", Cos},
    {"Cosh", "", Cosh},
    {"Div", "", Div},
    {"Dropout", "", Dropout},
    {"Elu", "", Elu},
    {"Equal", "", Equal},
    {"Erf", "", Erf},
    {"Exp", "", Exp},
    {"Expand", "", Expand},
    {"Floor", "", Floor},
    {"Greater", "", Greater},
    {"GreaterOrEqual", "", GreaterOrEqual},
    {"HardSigmoid", "", HardSigmoid},
    {"HardSwish", "", HardSwish},
    {"Hardmax", "", Hardmax},
    {"IsInf", "", IsInf},
    {"IsNaN", "", IsNaN},
    {"LeakyRelu", "", LeakyRelu},
    {"Less", "", Less},
    {"LessOrEqual", "", LessOrEqual},
    {"Log", "", Log},
    {"LogSoftmax", "", LogSoftmax},
    {"Max", "", Max},
    {"Mean", "", Mean},
    {"Min", "", Min},
    {"Mod", "", Mod},
    {"Mul", "", Mul},
    {"Neg", "", Neg},
    {"Not", "", Not},
    {"Or", "", Or},
    {"PRelu", "", PRelu},
    {"Pow", "", Pow},
    {"Reciprocal", "", Reciprocal},
    {"Relu", "", Relu},
    {"Round", "", Round},
    {"Selu", "", Selu},
    {"Shrink", "", Shrink},
    {"Sigmoid", "", Sigmoid},
    {"Sign", "", Sign},
    {"Sin", "", Sin},
    {"Sinh", "", Sinh},
    {"Softmax", "", Softmax},
    {"Softplus", "", Softplus},
    {"Softsign", "", Softsign},
    {"Sqrt", "", Sqrt},
    {"Sub", "", Sub},
    {"Sum", "", Sum},
    {"Tan", "", Tan},
    {"Tanh", "", Tanh},
    {"ThresholdedRelu", "", ThresholdedRelu},
    {"Where", "", Where},
    {"Xor", "", Xor},
    // --- neural-network layers ---
    {"AveragePool", "", AveragePool},
    {"BatchNormalization", "", BatchNormalization},
    {"Conv", "", Conv},
    {"ConvTranspose", "", ConvTranspose},
    {"FusedConv", "com.supernova", FusedConv},
    {"Gemm", "", Gemm},
    {"GlobalAveragePool", "", GlobalAveragePool},
    {"GlobalMaxPool", "", GlobalMaxPool},
    {"InstanceNormalization", "", InstanceNormalization},
    {"LRN", "", LRN},
    {"MatMul", "", MatMul},
    {"MaxPool", "", MaxPool},
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
