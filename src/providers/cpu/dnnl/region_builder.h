// A region's compiled form: buffers with their oneDNN layouts, and the primitives to run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "providers/cpu/dnnl/dnnl_common.h"
#include "providers/cpu/dnnl/region.h"

namespace supernova::cpu::dnnl_ops {

struct Region::Plan {
  // True when oneDNN cannot take these shapes or attributes: the region then runs its nodes
  // with the reference kernels, and `why` says what stopped the plan.
  bool reference = false;
  std::string why;

  struct Buffer {
    // kAlias: another buffer's bytes seen through `md` (a Transpose's output), never a copy.
    enum class Kind { kTemp, kInput, kOutput, kConstant, kAlias };
    Kind kind = Kind::kTemp;
    dnnl::memory::desc md;
    int index = -1;         // kInput / kOutput: position in the region's inputs / outputs
    int alias = -1;         // kAlias: the buffer whose bytes these are (never itself an alias)
    Shape shape;            // kOutput: the plain shape handed to the caller
    dnnl::memory constant;  // kConstant
    std::shared_ptr<const PackedWeights> packed;  // kConstant: keeps a packed weight alive
    Tensor source;                                // kConstant: keeps wrapped data alive
  };
  // Our own code for a step oneDNN has no primitive for: it gets the arguments a primitive
  // would, and the number of threads it may use.
  using HostFn = std::function<void(const std::unordered_map<int, dnnl::memory>&, int threads)>;
  struct Step {
    dnnl::primitive primitive;  // empty when `host` runs the step
    HostFn host;
    std::vector<std::pair<int, int>> args;  // (DNNL_ARG_*, buffer)
    // (DNNL_ARG_*, desc): that argument's buffer seen through another desc of the same bytes
    // (a plain tensor with its dims regrouped, as MatMul's broadcast and flattening need).
    std::vector<std::pair<int, dnnl::memory::desc>> views;
    // Temporaries first written by this step (each followed by its aliases), and those last
    // read by it.
    std::vector<int> allocate;
    std::vector<int> release;
  };
  std::vector<Buffer> buffers;
  std::vector<Step> steps;
  size_t scratch_bytes = 0;  // one user-managed scratchpad, the largest any primitive needs
};

// Compiles `nodes` for the given input tensors, with bf16 compute as Region's `bf16` says (never
// fails: a plan that oneDNN cannot take comes back with reference = true).
std::shared_ptr<const Region::Plan> BuildPlan(const ir::Graph& graph,
                                              const std::vector<const ir::Node*>& nodes,
                                              const std::vector<std::string>& inputs,
                                              const std::vector<std::string>& outputs,
                                              const std::map<std::string, Tensor>& constants,
                                              const std::vector<const Tensor*>& input_tensors,
                                              bool bf16 = false);

// Runs a compiled plan: inputs from ctx.input(i), outputs into ctx.Output(j, ...),
// temporaries from ctx's allocator.
Status ExecutePlan(const Region::Plan& plan, KernelContext& ctx);

}  // namespace supernova::cpu::dnnl_ops
