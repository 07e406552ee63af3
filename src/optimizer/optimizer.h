// The graph optimizer: rewrites an IR graph into a cheaper one that computes the same outputs.
//
//   std::vector<supernova::optimizer::PassStats> stats;
//   SN_RETURN_IF_ERROR(supernova::optimizer::Optimize(graph, OptimizationLevel::kAll, &stats));
//   for (const auto& s : stats) printf("%s: %d changes, %.2f ms\n", s.name.c_str(), s.changes,
//                                      s.ms);
//
// Levels:
//   kNone   nothing.
//   kBasic  rewrites that stay within standard ONNX and change no arithmetic: constant folding
//           (including Shape of statically shaped values), removal of Identity, inference
//           Dropout, same-type Cast, no-op Reshape, Reshape chains and Transpose pairs, and
//           dead-node elimination.
//   kAll    kBasic plus folding BatchNormalization into a preceding Conv, ConvTranspose or Gemm
//           (rounding differs slightly), and fusions into this runtime's own op FusedConv
//           (domain com.supernova): Conv + Add of a same-shaped tensor, Conv + activation.
// Passes repeat until none changes anything (at most kMaxRounds rounds). Graph inputs and
// outputs keep their names; a graph output is never removed or renamed. Each pass only
// rewrites what it can prove equivalent: a pattern that does not match leaves the graph
// untouched.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "supernova/optimization.h"
#include "supernova/status.h"

namespace supernova::optimizer {

// What one pass did over the whole run, summed over rounds.
struct PassStats {
  std::string name;  // "constant_folding", ...
  int changes = 0;   // rewrites made (0: the pass never touched the graph)
  double ms = 0;     // wall time spent in the pass
};

// Which passes of a level run. A graph some nodes of which go to other providers is
// optimized in two steps: kPortable before placement (rewrites that keep standard ONNX, which
// every provider can read), kCpuFusions after it, on what the cpu runs (fusions into this
// runtime's own ops, which only the cpu has kernels for).
enum class PassSet { kEvery, kPortable, kCpuFusions };

// Rewrites `g` in place. `g` must be valid and topologically sorted, as ImportOnnx* returns
// it, and stays so. Fills g.value_types (shape inference) for the values it can. `stats`, when
// given, receives one entry per pass the level enables, in pipeline order. Fails only on an
// internal error (a pass that broke the graph), which is a bug to report.
Status Optimize(ir::Graph& g, OptimizationLevel level, std::vector<PassStats>* stats = nullptr,
                PassSet set = PassSet::kEvery);

// "none", "basic", "all" -> level; nullopt-like failure as InvalidArgument.
Result<OptimizationLevel> ParseOptimizationLevel(const std::string& text);
const char* OptimizationLevelName(OptimizationLevel level);

}  // namespace supernova::optimizer
