#include "providers/cpu/cpu_provider.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include "ops/op.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/dnnl/dnnl_common.h"
#include "providers/cpu/dnnl/region.h"

namespace supernova::cpu {
namespace {

// One step of a compiled piece: a node run by its reference kernel, or a oneDNN region (a
// run of nodes executed as one; `node` is then a stand-in that names the region's inputs and
// outputs). Values live in numbered slots.
struct Step {
  const ir::Node* node = nullptr;
  const ops::OpDef* def = nullptr;
  std::shared_ptr<const dnnl_ops::Region> region;
  int64_t opset = 0;
  std::vector<int> inputs;   // slot per input, -1 when omitted
  std::vector<int> outputs;  // slot per output, -1 when omitted
  std::vector<int> release;  // slots whose last use is this step
  // A node with subgraphs: the values of this scope its bodies read (sorted) and their slots.
  std::vector<std::string> outer_names;
  std::vector<int> outer_slots;
};

// The piece as a graph of its own: its nodes, the initializers and types they use, the
// piece's inputs and outputs as graph inputs and outputs. Rewriting it (fusions, the regions'
// order) leaves the session's graph alone.
ir::Graph PieceGraph(const providers::Piece& piece) {
  const ir::Graph& from = *piece.graph;
  ir::Graph g;
  g.name = from.name;
  g.opsets = from.opsets;
  g.inputs = piece.inputs;
  g.outputs = piece.outputs;
  auto keep = [&](const std::string& v) {
    if (v.empty()) return;
    if (auto it = from.initializers.find(v); it != from.initializers.end())
      g.initializers.emplace(v, it->second);  // a handle: the bytes are shared
    if (auto it = from.value_types.find(v); it != from.value_types.end())
      g.value_types.emplace(v, it->second);
  };
  for (const ir::Node* n : piece.nodes) {
    g.nodes.push_back(*n);
    for (const std::string& v : n->inputs) keep(v);
    for (const std::string& v : n->outputs) keep(v);
    std::unordered_set<std::string> sub;
    ir::CollectSubgraphReads(*n, &sub);
    for (const std::string& v : sub) keep(v);
  }
  for (const std::string& v : piece.inputs) keep(v);
  return g;
}

class CpuPiece final : public providers::CompiledPiece {
 public:
  // Regions point into graph_: a CpuPiece never moves once built.
  CpuPiece(ir::Graph graph) : graph_(std::move(graph)) {}
  CpuPiece(const CpuPiece&) = delete;
  CpuPiece& operator=(const CpuPiece&) = delete;

  Status Build(CpuKind kind, OptimizationLevel level, bool bf16);
  Status Run(const providers::RunContext& ctx, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs) const override;
  Status RunValues(const providers::RunContext& ctx, std::span<const Value* const> inputs,
                   std::vector<Value>* outputs) const override;

 private:
  ir::Graph graph_;
  std::deque<ir::Node> region_nodes_;  // stand-ins of the region steps (stable addresses)
  std::vector<Step> steps_;
  std::vector<Tensor> constants_;  // slot -> initializer, else undefined
  std::vector<int> input_slots_, output_slots_;
  size_t num_slots_ = 0;
};

Status CpuPiece::Build(CpuKind kind, OptimizationLevel level, bool bf16) {
  ir::Graph& g = graph_;
  std::vector<std::pair<size_t, size_t>> regions;
  if (kind == CpuKind::kDnnl) {
    // The fusions into this runtime's own ops, which only the cpu reads, happen here, after
    // placement, on the cpu's share of the graph.
    SN_RETURN_IF_ERROR(optimizer::Optimize(g, level, nullptr, optimizer::PassSet::kCpuFusions));
    regions = dnnl_ops::Partition(g);
  }

  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& name) {
    auto [it, inserted] = slot.emplace(name, static_cast<int>(slot.size()));
    return it->second;
  };
  for (const auto& [name, t] : g.initializers) {
    const int s = slot_of(name);
    if (constants_.size() <= static_cast<size_t>(s)) constants_.resize(s + 1);
    constants_[s] = t;
  }
  for (const std::string& in : g.inputs) input_slots_.push_back(slot_of(in));
  size_t next_region = 0;
  for (size_t i = 0; i < g.nodes.size();) {
    Step st;
    st.opset = g.Opset();
    if (next_region < regions.size() && regions[next_region].first == i) {
      const auto [begin, end] = regions[next_region++];
      std::vector<const ir::Node*> members;
      for (size_t k = begin; k < end; ++k) members.push_back(&g.nodes[k]);
      auto region = std::make_shared<const dnnl_ops::Region>(g, std::move(members), bf16);
      ir::Node& stand_in = region_nodes_.emplace_back();
      stand_in.op_type = "DnnlRegion";
      stand_in.name = region->Describe();
      stand_in.inputs = region->inputs();
      stand_in.outputs = region->outputs();
      st.node = &stand_in;
      st.region = std::move(region);
      i = end;
    } else {
      const ir::Node& n = g.nodes[i++];
      const ops::OpDef* def = ops::FindOp(n);
      if (!def) return Status::Unimplemented(n.Label() + ": no cpu kernel");
      st.node = &n;
      st.def = def;
      st.opset = g.Opset(n.domain);
      std::unordered_set<std::string> outer;
      ir::CollectSubgraphReads(n, &outer);
      st.outer_names.assign(outer.begin(), outer.end());
      std::sort(st.outer_names.begin(), st.outer_names.end());
      for (const std::string& v : st.outer_names) st.outer_slots.push_back(slot_of(v));
    }
    for (const std::string& in : st.node->inputs)
      st.inputs.push_back(in.empty() ? -1 : slot_of(in));
    for (const std::string& out : st.node->outputs)
      st.outputs.push_back(out.empty() ? -1 : slot_of(out));
    steps_.push_back(std::move(st));
  }
  for (const std::string& out : g.outputs) output_slots_.push_back(slot_of(out));
  num_slots_ = slot.size();
  constants_.resize(num_slots_);

  // Lifetime: a value dies after the last step that reads it, unless the piece returns it,
  // the caller owns it (an input) or it is a constant.
  std::vector<int> last_use(num_slots_, -1);
  for (size_t i = 0; i < steps_.size(); ++i) {
    for (int s : steps_[i].inputs)
      if (s >= 0) last_use[s] = static_cast<int>(i);
    for (int s : steps_[i].outer_slots) last_use[s] = static_cast<int>(i);
    for (int s : steps_[i].outputs)  // an output nobody reads dies where it is made
      if (s >= 0 && last_use[s] < static_cast<int>(i)) last_use[s] = static_cast<int>(i);
  }
  std::vector<bool> pinned(num_slots_, false);
  for (int s : output_slots_) pinned[s] = true;
  for (int s : input_slots_) pinned[s] = true;
  for (size_t s = 0; s < num_slots_; ++s)
    if (constants_[s].defined()) pinned[s] = true;
  for (size_t s = 0; s < num_slots_; ++s)
    if (!pinned[s] && last_use[s] >= 0) steps_[last_use[s]].release.push_back(static_cast<int>(s));
  return Status::Ok();
}

Status CpuPiece::Run(const providers::RunContext& ctx, std::span<const Tensor* const> inputs,
                     std::vector<Tensor>* outputs) const {
  std::vector<Value> values(inputs.size());
  std::vector<const Value*> in(inputs.size(), nullptr);
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k]) continue;
    values[k] = *inputs[k];
    in[k] = &values[k];
  }
  std::vector<Value> outs;
  SN_RETURN_IF_ERROR(RunValues(ctx, in, &outs));
  outputs->clear();
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].is_tensor())
      return Status::InvalidArgument("output '" + graph_.outputs[k] + "' is a " +
                                     outs[k].Describe() + ", not a tensor");
    outputs->push_back(outs[k].tensor());
  }
  return Status::Ok();
}

Status CpuPiece::RunValues(const providers::RunContext& ctx, std::span<const Value* const> inputs,
                           std::vector<Value>* outputs) const {
  if (inputs.size() != input_slots_.size())
    return Status::Internal("cpu piece: " + std::to_string(inputs.size()) + " inputs, expected " +
                            std::to_string(input_slots_.size()));
  // Handles only: constants are shared, sequences immutable.
  std::vector<Value> values(constants_.begin(), constants_.end());
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k] || (inputs[k]->is_tensor() && !inputs[k]->tensor().on_host()))
      return Status::Internal("cpu piece: input '" + graph_.inputs[k] + "' is not on the host");
    values[input_slots_[k]] = *inputs[k];
  }
  // Without a pool from the caller, fresh memory from the heap (the outputs outlive the call).
  const std::shared_ptr<Allocator> allocator =
      ctx.host_allocator
          ? ctx.host_allocator
          : std::shared_ptr<Allocator>(std::shared_ptr<Allocator>(), DefaultAllocator());
  const int threads = ctx.num_threads > 0 ? ctx.num_threads : 1;
  omp_set_num_threads(threads);

  for (const Step& st : steps_) {
    std::vector<const Tensor*> in;
    std::vector<const Value*> in_values;
    in.reserve(st.inputs.size());
    in_values.reserve(st.inputs.size());
    for (int s : st.inputs) {
      if (s >= 0 && !values[s].defined())
        return Status::Internal(st.node->Label() + ": input was not computed");
      const Value* v = s >= 0 ? &values[s] : nullptr;
      in_values.push_back(v);
      in.push_back(v && v->is_tensor() ? &v->tensor() : nullptr);
    }
    while (!in_values.empty() && in_values.back() == nullptr) in_values.pop_back();
    in.resize(in_values.size());
    KernelContext kc(*st.node, st.opset, std::move(in), allocator, threads);
    kc.SetValues(std::move(in_values));
    std::vector<const Value*> outer;
    if (!st.outer_slots.empty()) {
      outer.reserve(st.outer_slots.size());
      for (int s : st.outer_slots) outer.push_back(&values[s]);
    }
    kc.SetScope(ctx.subgraphs, st.outer_names, outer);
    const auto t0 = std::chrono::steady_clock::now();
    Status s;
    try {
      s = st.region ? st.region->Run(kc) : ops::RunKernel(*st.def, kc);
    } catch (const std::bad_alloc&) {  // a model asking for more memory than the machine has
      s = Status::ResourceExhausted(st.node->Label() +
                                    ": out of memory for its outputs or scratch");
    }
    if (!s.ok()) return s;
    if (ctx.profile) {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ctx.profile->push_back(
          {st.node->name, st.node->op_type, ms, st.node->inputs, st.node->outputs});
    }
    for (size_t i = 0; i < st.outputs.size(); ++i) {
      if (st.outputs[i] < 0) continue;
      Value produced = kc.TakeValue(i);
      if (!produced.defined())
        return Status::Internal(st.node->Label() + ": kernel did not produce output " +
                                std::to_string(i));
      values[st.outputs[i]] = std::move(produced);
    }
    for (int r : st.release) values[r] = Value();
  }
  outputs->clear();
  for (int s : output_slots_) outputs->push_back(values[s]);
  return Status::Ok();
}

class CpuProvider final : public providers::ExecutionProvider {
 public:
  CpuProvider(CpuKind kind, OptimizationLevel level, bool bf16)
      : kind_(kind), level_(level), bf16_(bf16) {}

  std::string_view name() const override {
    return kind_ == CpuKind::kDnnl ? "cpu" : "cpu_reference";
  }
  Device device() const override { return {}; }
  bool is_fallback() const override { return true; }

  providers::Support Supports(const ir::Graph&, const ir::Node& node) const override {
    if (ops::FindOp(node)) return providers::Support::Yes();
    return providers::Support::No(
        "no kernel for " + (node.domain.empty() ? node.op_type : node.domain + "." + node.op_type));
  }

  Result<std::unique_ptr<providers::CompiledPiece>> Compile(
      const providers::Piece& piece) const override {
    auto compiled = std::make_unique<CpuPiece>(PieceGraph(piece));
    SN_RETURN_IF_ERROR(compiled->Build(kind_, level_, bf16_));
    return std::unique_ptr<providers::CompiledPiece>(std::move(compiled));
  }

 private:
  CpuKind kind_;
  OptimizationLevel level_;
  bool bf16_;
};

}  // namespace

bool NativeBf16() { return dnnl_ops::Bf16Native(); }
std::string CpuIsa() { return dnnl_ops::CpuIsaName(); }

Result<std::unique_ptr<providers::ExecutionProvider>> MakeCpuProvider(
    const providers::ProviderOptions& options, CpuKind kind) {
  return std::unique_ptr<providers::ExecutionProvider>(
      std::make_unique<CpuProvider>(kind, options.optimization, options.bf16));
}

}  // namespace supernova::cpu
