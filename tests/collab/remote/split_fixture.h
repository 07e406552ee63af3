// A split directory built by hand for the edge runner's tests, as `supernova split` would
// write it (the split spec): a small convolutional network with a residual block, cut into
// head and tail models at chosen tensors, its plan.json, and the whole model's outputs run
// locally as the reference.
//
//   x[1,8,32,32] -Conv,Relu-> r0 -Conv,Relu-> r1[1,32,32,32] -MaxPool 4-> p1[1,32,8,8]
//     -Conv,Relu-> r2
//     -Add(r2,p1)-> a -Conv,Relu-> r3[1,128,8,8] -Conv,Relu-> r4
//     -> y = GlobalAveragePool(r4), m = GlobalMaxPool(r4)   (1 KiB together)
//
// About as much compute before the cut at p1 as after it. Candidates: 0 edge-only,
// 1 cloud-only (sends x, 32 KiB), 2 the cut {p1} (8 KiB), 3 the cut {r2, p1} through the
// residual block (16 KiB), 4 the cut {r1} (128 KiB, not materialized).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/tensor.h"

namespace supernova::collab::testing {

constexpr int kEdgeOnly = 0, kCloudOnly = 1, kCutP1 = 2, kCutResidual = 3, kCutR1 = 4;

struct SplitDir {
  std::string dir;  // a fresh temporary directory, removed by the destructor
  ir::Model whole;
  std::vector<std::pair<std::string, Tensor>> feeds;  // x
  std::vector<Tensor> expected;                       // y, m of the whole model run here

  SplitDir() = default;
  SplitDir(SplitDir&&) = default;
  ~SplitDir();
};

// Builds the directory. Predicted times are measured here (median of a few runs on one
// thread): edge_ms = head time x `edge_slowdown`, cloud_ms = tail time; `chosen` is the
// plan's chosen candidate.
SplitDir MakeSplitDir(double edge_slowdown = 1, int chosen = kCutP1);

// The same for any model (with static shapes): a temporary directory for `whole`, then its
// plan.json, heads and tails for `cuts`, predicted times from `timing_runs` runs each (0:
// predictions of 0 ms, for models too slow to time in a test).
struct CutSpec {
  int id;
  std::string kind;  // split, edge_only (tensors = outputs), cloud_only (tensors = inputs)
  std::vector<std::string> tensors;
  bool materialized;
};
SplitDir NewSplitDir(ir::Model whole, std::vector<std::pair<std::string, Tensor>> feeds);
void WriteSplitDir(SplitDir& d, const std::string& name, const std::vector<CutSpec>& cuts,
                   double edge_slowdown, int chosen, int timing_runs);

// The tensors made by nodes [0, k) (or graph inputs) that nodes [k, end) or the graph's
// outputs read: a cut that separates the inputs from the outputs, whatever the DAG.
std::vector<std::string> FrontierCut(const ir::Graph& g, size_t k);

// The part of `model` that computes `outputs` from `inputs` (cut tensors or graph inputs),
// with their types: what a split's head or tail is.
ir::Model Extract(const ir::Model& model, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs);

// Runs an ONNX file here on one thread.
std::vector<Tensor> RunFile(const std::string& path,
                            const std::vector<std::pair<std::string, Tensor>>& feeds);

// The same outputs, bit for bit: shapes, dtypes and bytes.
::testing::AssertionResult BitEqual(const std::vector<Tensor>& want,
                                    const std::vector<Tensor>& got);

std::string ReadText(const std::string& path);
void WriteText(const std::string& path, const std::string& text);

}  // namespace supernova::collab::testing
