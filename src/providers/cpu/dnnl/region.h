// oneDNN regions: the fast path of the cpu provider.
//
// Partition() groups the graph's oneDNN-capable float nodes (convolutions, pooling, batch and
// local response normalisation, element-wise activations, binary arithmetic, channel concat,
// constant pad, spatial resize, transpose, LSTM and GRU; and the QuantizeLinear and
// DequantizeLinear of QDQ models, whose quantized products run as int8 primitives) into
// regions: runs of nodes that are contiguous in execution order, so a region can execute as
// one step. Inside a region every value stays in the layout its producing primitive prefers
// (channel-blocked or channels-last); reorders happen only where a consumer wants another
// layout, or where a value enters from outside or leaves the region. A Transpose moves no data
// of its own, and a Resize oneDNN cannot express runs as a step of our own on the same layouts.
// Weights are packed once per layout and shared across sessions (see PackWeights).
//
// A region compiles a plan per set of input shapes (and thread count, and precision) on first use
// and keeps it. Shapes or attributes oneDNN cannot take make the plan fall back to running the
// nodes with the reference kernels, so a region never fails where the reference kernels succeed.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/kernel.h"
#include "supernova/status.h"

namespace supernova::cpu {
// The cpu provider runs the reference kernels and speaks their vocabulary (ops/kernel.h).
using ops::KernelContext;
using ops::KernelFn;
}  // namespace supernova::cpu

namespace supernova::cpu::dnnl_ops {

// Whether `node` may join a region (attributes, constant operands and float types checked
// statically; shapes are checked when a plan is built).
bool Supported(const ir::Graph& graph, const ir::Node& node);
// Whether a ReduceMean/ReduceMax reduces exactly the spatial axes with keepdims (as a model's
// squeeze-and-excitation block does): then it is a global pooling.
bool SpatialReduction(const ir::Graph& graph, const ir::Node& node);

class Region {
 public:
  // `nodes` point into `graph`, which must outlive the region. Inputs are the values the
  // region reads from outside (constants excluded: the region holds those itself), outputs
  // the values read after it or returned by the graph. `bf16`: float convolutions and products
  // with constant weights compute in bfloat16 (inputs and weights rounded to it, sums and
  // results in float) where the host does so natively (Bf16Native), in float elsewhere.
  Region(const ir::Graph& graph, std::vector<const ir::Node*> nodes, bool bf16 = false);
  ~Region();

  const std::vector<std::string>& inputs() const { return inputs_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  size_t size() const { return nodes_.size(); }
  // "dnnl[Conv x12, Relu x3, ...]" for profiles and `supernova info`.
  std::string Describe() const;

  // ctx's inputs follow inputs(), its outputs outputs().
  Status Run(KernelContext& ctx) const;

  // Why Run() with inputs of these shapes and dtypes (in inputs() order) would fall back to
  // the reference kernels, or "" when it runs a oneDNN plan. Compiles and caches the plan as
  // Run() would. For tests and diagnostics; thread-safe.
  std::string FallbackReason(const std::vector<const Tensor*>& inputs, int threads) const;

  struct Plan;

 private:
  Result<std::shared_ptr<const Plan>> PlanFor(const std::vector<const Tensor*>& inputs,
                                              int threads) const;
  // Runs the nodes one by one with the reference kernels (plain layouts throughout).
  Status RunReference(KernelContext& ctx) const;

  const ir::Graph& graph_;
  std::vector<const ir::Node*> nodes_;
  std::vector<std::string> inputs_, outputs_;
  std::map<std::string, Tensor> constants_;  // initializers the nodes read
  bool bf16_ = false;

  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const Plan>> plans_;  // GUARDED_BY(mu_)
};

// Reorders graph.nodes (keeping it topological) so that supported nodes run in long
// contiguous stretches, and returns those stretches that are worth a region (they hold at
// least one convolution, pooling, normalisation, product or recurrence) as [begin, end)
// index ranges.
std::vector<std::pair<size_t, size_t>> Partition(ir::Graph& graph);

}  // namespace supernova::cpu::dnnl_ops
