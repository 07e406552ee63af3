#include "providers/provider.h"

#include <iterator>

namespace supernova::providers {

Status CompiledPiece::RunValues(const RunContext& ctx, std::span<const Value* const> inputs,
                                std::vector<Value>* outputs) const {
  std::vector<const Tensor*> tensors;
  tensors.reserve(inputs.size());
  for (const Value* v : inputs) {
    if (v && !v->is_tensor())
      return Status::Internal("piece: a " + v->Describe() + " reached a tensor-only provider");
    tensors.push_back(v ? &v->tensor() : nullptr);
  }
  std::vector<Tensor> produced;
  SN_RETURN_IF_ERROR(Run(ctx, tensors, &produced));
  outputs->assign(std::make_move_iterator(produced.begin()),
                  std::make_move_iterator(produced.end()));
  return Status::Ok();
}

Status ExecutionProvider::CopyToDevice(const Tensor& host, Tensor* device) const {
  (void)host;
  (void)device;
  return Status::Unimplemented(std::string(name()) + ": no device copies (host provider)");
}

Status ExecutionProvider::CopyToHost(const Tensor& device, Tensor* host) const {
  (void)device;
  (void)host;
  return Status::Unimplemented(std::string(name()) + ": no device copies (host provider)");
}

}  // namespace supernova::providers
