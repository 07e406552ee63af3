// Region: compiles a run of nodes into oneDNN primitives per input shape and executes them.
#include "providers/cpu/dnnl/region.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ops/op.h"
#include "providers/cpu/dnnl/dnnl_common.h"
#include "providers/cpu/dnnl/region_builder.h"

namespace supernova::cpu::dnnl_ops {

Region::Region(const ir::Graph& graph, std::vector<const ir::Node*> nodes, bool bf16)
    : graph_(graph), nodes_(std::move(nodes)), bf16_(bf16) {
  std::unordered_set<const ir::Node*> mine(nodes_.begin(), nodes_.end());
  std::unordered_set<std::string> produced, seen_input;
  for (const ir::Node* n : nodes_) {
    for (const std::string& in : n->inputs) {
      if (in.empty() || produced.count(in)) continue;
      if (graph.IsInitializer(in)) {
        constants_.emplace(in, graph.initializers.at(in));
      } else if (seen_input.insert(in).second) {
        inputs_.push_back(in);
      }
    }
    for (const std::string& out : n->outputs)
      if (!out.empty()) produced.insert(out);
  }
  std::unordered_set<std::string> needed_outside(graph.outputs.begin(), graph.outputs.end());
  for (const ir::Node& n : graph.nodes)
    if (!mine.count(&n)) {
      for (const std::string& in : n.inputs) needed_outside.insert(in);
      ir::CollectSubgraphReads(n, &needed_outside);
    }
  for (const ir::Node* n : nodes_)
    for (const std::string& out : n->outputs)
      if (!out.empty() && needed_outside.count(out)) outputs_.push_back(out);
}

Region::~Region() = default;

std::string Region::Describe() const {
  std::map<std::string, int> count;
  for (const ir::Node* n : nodes_) ++count[n->op_type];
  std::string s = "dnnl[";
  bool first = true;
  for (const auto& [op, c] : count) {
    s += (first ? "" : ", ") + op + (c > 1 ? " x" + std::to_string(c) : "");
    first = false;
  }
  return s + "]";
}

Result<std::shared_ptr<const Region::Plan>> Region::PlanFor(
    const std::vector<const Tensor*>& inputs, int threads) const {
  std::string key = std::to_string(threads) + (bf16_ ? "bf16" : "");
  for (const Tensor* t : inputs) {
    key += "|" + std::to_string(static_cast<int>(t->dtype())) + ":";
    for (int64_t d : t->shape()) key += std::to_string(d) + ",";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
  }
  std::shared_ptr<const Plan> plan =
      BuildPlan(graph_, nodes_, inputs_, outputs_, constants_, inputs, bf16_);
  std::lock_guard<std::mutex> lock(mu_);
  // Two runs may have built the same plan at once; keep the first, both are equivalent.
  auto [it, inserted] = plans_.emplace(key, std::move(plan));
  return it->second;
}

Status Region::Run(KernelContext& ctx) const {
  std::vector<const Tensor*> ins(inputs_.size());
  for (size_t i = 0; i < ins.size(); ++i) {
    ins[i] = ctx.input(i);
    if (!ins[i]) return ctx.Error("region input '" + inputs_[i] + "' is missing");
  }
  SN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, PlanFor(ins, ctx.num_threads));
  if (plan->reference) return RunReference(ctx);
  return ExecutePlan(*plan, ctx);
}

std::string Region::FallbackReason(const std::vector<const Tensor*>& inputs, int threads) const {
  if (inputs.size() != inputs_.size())
    return "expected " + std::to_string(inputs_.size()) + " inputs";
  for (const Tensor* t : inputs)
    if (!t) return "an input is missing";
  Result<std::shared_ptr<const Plan>> plan = PlanFor(inputs, threads);
  if (!plan.ok()) return plan.status().ToString();
  if (!(*plan)->reference) return "";
  return (*plan)->why.empty() ? "fallback without a reason" : (*plan)->why;
}

Status Region::RunReference(KernelContext& ctx) const {
  std::unordered_map<std::string, Tensor> values;
  for (size_t i = 0; i < inputs_.size(); ++i) values[inputs_[i]] = *ctx.input(i);
  std::unordered_map<std::string, size_t> last_use;
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (const std::string& in : nodes_[k]->inputs) last_use[in] = k;
  const std::unordered_set<std::string> keep(outputs_.begin(), outputs_.end());
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const ir::Node& n = *nodes_[k];
    std::vector<const Tensor*> in;
    for (const std::string& name : n.inputs) {
      if (name.empty()) {
        in.push_back(nullptr);
        continue;
      }
      auto c = constants_.find(name);
      if (c != constants_.end()) {
        in.push_back(&c->second);
        continue;
      }
      auto v = values.find(name);
      if (v == values.end()) return Status::Internal(n.Label() + ": input was not computed");
      in.push_back(&v->second);
    }
    while (!in.empty() && in.back() == nullptr) in.pop_back();
    const ops::OpDef* def = ops::FindOp(n);
    if (!def) return Status::Unimplemented(n.Label() + ": no cpu kernel");
    KernelContext kc(n, graph_.Opset(n.domain), std::move(in), ctx.allocator(), ctx.num_threads);
    SN_RETURN_IF_ERROR(ops::RunKernel(*def, kc));
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty()) values[n.outputs[i]] = std::move(kc.outputs()[i]);
    for (const std::string& name : n.inputs)
      if (!name.empty() && last_use[name] == k && !keep.count(name)) values.erase(name);
  }
  for (size_t j = 0; j < outputs_.size(); ++j) ctx.SetOutput(j, values.at(outputs_[j]));
  return Status::Ok();
}

}  // namespace supernova::cpu::dnnl_ops
