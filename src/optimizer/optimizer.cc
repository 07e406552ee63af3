#include "optimizer/optimizer.h"

#include <chrono>
#include <string_view>

#include "ops/shape_inference.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
namespace {

struct Pass {
  const char* name;
  OptimizationLevel level;  // the lowest level that runs it
  Result<int> (*run)(ir::Graph&);
  bool cpu_fusion;  // makes ops of this runtime's own domain (com.supernova)
  // The default-domain opset from which what the pass writes is standard ONNX. Below it the pass
  // would write an op the model's opset lacks (HardSwish is opset 14), which another runtime
  // rejects, so there it runs with the cpu fusions only.
  int64_t portable_from_opset = 0;
};

// Pipeline order. The QOperator nodes become QDQ first, so that their weights' DequantizeLinear
// is a quantized weight to constant folding (kept, as in any QDQ model). Folding constants then
// exposes initializers to the later matches (a BN whose statistics come from Constant nodes, a
// Reshape whose shape is computed); removing
// Identity/Dropout joins a Conv to the BN or activation behind it; BN folding runs before the
// fusions so that Conv + BN + Relu ends as one FusedConv; Add fusion runs before activation
// fusion so Conv + Add + Relu takes the residual first (act(conv + z), not act(conv) + z);
// dead nodes go last, after the rewrites that orphan them.
constexpr Pass kPipeline[] = {
    {"expand_qoperators", OptimizationLevel::kAll, ExpandQOperators, false, 13},
    {"constant_folding", OptimizationLevel::kBasic, FoldConstants, false},
    {"eliminate_redundant", OptimizationLevel::kBasic, EliminateRedundantNodes, false},
    {"fold_batch_norm", OptimizationLevel::kAll, FoldBatchNorm, false},
    {"fuse_hard_swish", OptimizationLevel::kAll, FuseHardSwish, false, 14},
    {"fuse_conv_add", OptimizationLevel::kAll, FuseConvAdd, true},
    {"fuse_conv_activation", OptimizationLevel::kAll, FuseConvActivation, true},
    {"fuse_dynamic_quant_matmul", OptimizationLevel::kAll, FuseDynamicQuantMatMul, true},
    {"dead_node_elimination", OptimizationLevel::kBasic, EliminateDeadNodes, false},
};

// Most matches are found in the first round; another is needed only when a rewrite exposes an
// earlier pass's pattern (a folded shape that makes two Reshapes adjacent). Every rewrite
// removes a node, so the loop ends anyway; the bound keeps a pathological graph cheap.
constexpr int kMaxRounds = 8;

bool Enabled(const Pass& pass, OptimizationLevel level, PassSet set, int64_t opset) {
  if (level == OptimizationLevel::kNone || static_cast<int>(pass.level) > static_cast<int>(level))
    return false;
  const bool cpu_only = pass.cpu_fusion || opset < pass.portable_from_opset;
  // Dead nodes are swept after the fusions too, which leave their matched nodes orphaned.
  if (set == PassSet::kCpuFusions)
    return cpu_only || std::string_view(pass.name) == "dead_node_elimination";
  return set == PassSet::kEvery || !cpu_only;
}

}  // namespace

Status Optimize(ir::Graph& g, OptimizationLevel level, std::vector<PassStats>* stats, PassSet set) {
  std::vector<PassStats> local;
  const int64_t opset = g.Opset();
  for (const Pass& p : kPipeline)
    if (Enabled(p, level, set, opset)) local.push_back({p.name, 0, 0.0});
  if (level != OptimizationLevel::kNone) {
    for (int round = 0; round < kMaxRounds; ++round) {
      // Passes match on static shapes and types; refresh them for values the last round made.
      ops::InferShapes(g);
      int changes = 0;
      size_t k = 0;
      for (const Pass& p : kPipeline) {
        if (!Enabled(p, level, set, opset)) continue;
        const auto t0 = std::chrono::steady_clock::now();
        Result<int> n = p.run(g);
        local[k].ms +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (!n.ok()) return n.status().WithContext("optimizer pass " + std::string(p.name));
        local[k++].changes += *n;
        changes += *n;
      }
      if (changes == 0) break;
    }
    if (Status s = g.Validate(); !s.ok())
      return Status::Internal("optimizer produced an invalid graph: " + s.message());
  }
  if (stats) *stats = std::move(local);
  return Status::Ok();
}

Result<OptimizationLevel> ParseOptimizationLevel(const std::string& text) {
  if (text == "none") return OptimizationLevel::kNone;
  if (text == "basic") return OptimizationLevel::kBasic;
  if (text == "all") return OptimizationLevel::kAll;
  return Status::InvalidArgument("unknown optimization level '" + text +
                                 "' (expected none, basic or all)");
}

const char* OptimizationLevelName(OptimizationLevel level) {
  switch (level) {
    case OptimizationLevel::kNone:
      return "none";
    case OptimizationLevel::kBasic:
      return "basic";
    case OptimizationLevel::kAll:
      return "all";
  }
  return "?";
}

}  // namespace supernova::optimizer
