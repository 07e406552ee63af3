// The registry of ops: every family, one line each. A family registers its ops in its own
// file (ops/op.h).
#include <algorithm>
#include <vector>

#include "ops/op.h"

namespace supernova::ops {
namespace {

constexpr std::span<const OpDef> (*kFamilies[])() = {
    AffineGridOps,
    BatchNormalizationOps,
    BinaryOps,
    CastOps,
    CenterCropPadOps,
    Col2ImOps,
    CompressOps,
    ConcatOps,
    ConstantOps,
    ConvOps,
    ConvTransposeOps,
    CumSumOps,
    DepthToSpaceOps,
    DetOps,
    DftOps,
    DropoutOps,
    DynamicQuantMatMulOps,
    EinsumOps,
    FusedConvOps,
    GatherOps,
    GatherNDOps,
    GemmOps,
    GridSampleOps,
    IdentityOps,
    IfOps,
    InstanceNormalizationOps,
    LayerNormalizationOps,
    LoopOps,
    LrnOps,
    LossOps,
    MatMulOps,
    MaxUnpoolOps,
    MeanVarianceNormalizationOps,
    MelWeightMatrixOps,
    NonMaxSuppressionOps,
    NonZeroOps,
    OneHotOps,
    OptionalOps,
    PadOps,
    PoolOps,
    QLinearContribOps,
    QuantConvOps,
    QuantizeOps,
    QuantMatMulOps,
    RandomOps,
    RecurrentOps,
    ReduceOps,
    ReshapeOps,
    ResizeOps,
    ReverseSequenceOps,
    RoiAlignOps,
    ScanOps,
    SequenceMapOps,
    SequenceOps,
    SequenceSplitConcatOps,
    ShapeOps,
    SliceOps,
    SoftmaxOps,
    SplitOps,
    StringNormalizerOps,
    StftOps,
    TfIdfVectorizerOps,
    TileOps,
    TopKOps,
    TrainingOps,
    TransposeOps,
    TriluOps,
    UnaryOps,
    UniqueOps,
    VariadicOps,
    WindowFunctionOps,
};

bool Before(const OpDef* a, const OpDef* b) {
  return std::tie(a->domain, a->op_type) < std::tie(b->domain, b->op_type);
}

// Every op, sorted for lookup. Two registrations of one op are a programming error, caught by
// the registry's test (tests/ops/registry_test.cc).
const std::vector<const OpDef*>& Sorted() {
  static const std::vector<const OpDef*> all = [] {
    std::vector<const OpDef*> v;
    for (auto family : kFamilies)
      for (const OpDef& def : family()) v.push_back(&def);
    std::sort(v.begin(), v.end(), Before);
    return v;
  }();
  return all;
}

}  // namespace

const OpDef* FindOp(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  const OpDef key{op_type, nullptr, nullptr, OpKind::kCompute, ActivationKind::kNone, domain};
  const auto& all = Sorted();
  auto it = std::lower_bound(all.begin(), all.end(), &key, Before);
  return it != all.end() && (*it)->domain == domain && (*it)->op_type == op_type ? *it : nullptr;
}

std::span<const OpDef* const> AllOps() { return Sorted(); }

Status RunKernel(const OpDef& def, KernelContext& ctx) {
  if (!def.strings)
    for (size_t i = 0; i < ctx.num_inputs(); ++i)
      if (const Tensor* t = ctx.input(i); t && t->dtype() == DataType::kString)
        return ctx.Unsupported("input " + std::to_string(i) + " is a string tensor; " +
                               std::string(def.op_type) + " takes no strings");
  return def.kernel(ctx);
}

}  // namespace supernova::ops
