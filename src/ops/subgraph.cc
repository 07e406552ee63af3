#include "ops/subgraph.h"

#include <algorithm>

namespace supernova::ops {

const Value* KernelContext::outer(const std::string& name) const {
  auto it = std::lower_bound(outer_names_.begin(), outer_names_.end(), name);
  if (it == outer_names_.end() || *it != name) return nullptr;
  return outer_values_[static_cast<size_t>(it - outer_names_.begin())];
}

Result<BoundBody> BoundBody::Bind(const KernelContext& ctx, const std::string& attr) {
  const ir::Attribute* a = ctx.node.FindAttr(attr);
  if (!a || a->kind != ir::Attribute::Kind::kGraph || !a->g)
    return ctx.Error("attribute '" + attr + "' must be a graph");
  if (!ctx.subgraphs())
    return ctx.Unsupported("this executor does not run subgraphs (attribute '" + attr + "')");
  BoundBody b;
  b.graph_ = a->g.get();
  b.body_ = ctx.subgraphs()->Find(b.graph_);
  if (!b.body_) return Status::Internal(ctx.node.Label() + ": body '" + attr + "' not compiled");
  b.attr_ = attr;
  for (const std::string& name : b.body_->outer_names()) {
    const Value* t = ctx.outer(name);
    if (!t || !t->defined())
      return Status::Internal(ctx.node.Label() + ": " + attr + " reads '" + name +
                              "', which the enclosing scope did not pass");
    b.outer_.push_back(t);
  }
  return b;
}

Status BoundBody::Run(const KernelContext& ctx, std::span<const Tensor* const> inputs,
                      std::vector<Tensor>* outputs, int64_t iteration) const {
  std::vector<Value> values(inputs.size());
  std::vector<const Value*> in(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    values[i] = *inputs[i];
    in[i] = &values[i];
  }
  std::vector<Value> outs;
  SN_RETURN_IF_ERROR(Run(ctx, in, &outs, iteration));
  outputs->clear();
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].is_tensor())
      return ctx.Error(attr_ + " output " + std::to_string(i) + " is a " + outs[i].Describe() +
                       ", not a tensor");
    outputs->push_back(outs[i].tensor());
  }
  return Status::Ok();
}

Status BoundBody::Run(const KernelContext& ctx, std::span<const Value* const> inputs,
                      std::vector<Value>* outputs, int64_t iteration) const {
  if (inputs.size() != body_->num_inputs())
    return ctx.Error(attr_ + " takes " + std::to_string(body_->num_inputs()) + " inputs, given " +
                     std::to_string(inputs.size()));
  Status s = body_->Run(ctx, inputs, outer_, outputs);
  if (!s.ok())
    return s.WithContext(ctx.node.Label() + ": " + attr_ +
                         (iteration >= 0 ? " iteration " + std::to_string(iteration) : ""));
  return Status::Ok();
}

DataType DeclaredBodyDtype(const ir::Node& node, const std::string& attr, size_t index) {
  const ir::Attribute* a = node.FindAttr(attr);
  if (!a || !a->g || a->g->outputs.size() <= index) return DataType::kUndefined;
  const ir::ValueType* t = a->g->TypeOf(a->g->outputs[index]);
  return t ? t->dtype : DataType::kUndefined;
}

ValueKind DeclaredBodyKind(const ir::Node& node, const std::string& attr, size_t index) {
  const ir::Attribute* a = node.FindAttr(attr);
  if (!a || !a->g || a->g->outputs.size() <= index) return ValueKind::kTensor;
  const ir::ValueType* t = a->g->TypeOf(a->g->outputs[index]);
  return t ? t->kind : ValueKind::kTensor;
}

}  // namespace supernova::ops
