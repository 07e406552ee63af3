#include "providers/reference_runner.h"

#include "providers/cpu/kernel.h"

namespace supernova::providers {

Result<ReferenceRunner> ReferenceRunner::Make(const Piece& piece) {
  ReferenceRunner r;
  for (const ir::Node* n : piece.nodes) {
    if (!cpu::FindKernel(n->domain, n->op_type))
      return Status::Unimplemented(n->Label() + ": no cpu kernel");
    r.nodes_.push_back(*n);
    r.opsets_.push_back(piece.graph->Opset(n->domain));
    for (const std::string& v : n->inputs)
      if (piece.graph->IsInitializer(v)) r.constants_[v] = piece.graph->initializers.at(v);
  }
  r.inputs_ = piece.inputs;
  r.outputs_ = piece.outputs;
  return r;
}

Status ReferenceRunner::Run(std::span<const Tensor* const> inputs,
                            std::vector<Tensor>* outputs) const {
  if (inputs.size() != inputs_.size())
    return Status::Internal("reference runner: " + std::to_string(inputs.size()) +
                            " inputs, expected " + std::to_string(inputs_.size()));
  std::unordered_map<std::string, Tensor> values = constants_;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i] || !inputs[i]->on_host())
      return Status::Internal("reference runner: input '" + inputs_[i] + "' not on the host");
    values[inputs_[i]] = *inputs[i];
  }
  // Host memory from the default heap: the outputs outlive this call.
  const std::shared_ptr<Allocator> heap(std::shared_ptr<Allocator>(), DefaultAllocator());
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const ir::Node& n = nodes_[k];
    std::vector<const Tensor*> in;
    for (const std::string& v : n.inputs) {
      if (v.empty()) {
        in.push_back(nullptr);
        continue;
      }
      auto it = values.find(v);
      if (it == values.end())
        return Status::Internal("reference runner: " + n.Label() + " reads '" + v +
                                "', which nothing made");
      in.push_back(&it->second);
    }
    while (!in.empty() && !in.back()) in.pop_back();
    cpu::KernelContext ctx(n, opsets_[k], std::move(in), heap, 1);
    SN_RETURN_IF_ERROR(cpu::FindKernel(n.domain, n.op_type)->fn(ctx));
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty()) values[n.outputs[i]] = std::move(ctx.outputs()[i]);
  }
  outputs->clear();
  for (const std::string& v : outputs_) {
    auto it = values.find(v);
    if (it == values.end() || !it->second.defined())
      return Status::Internal("reference runner: output '" + v + "' was not made");
    outputs->push_back(it->second);
  }
  return Status::Ok();
}

}  // namespace supernova::providers
