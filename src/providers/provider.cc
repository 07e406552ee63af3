#include "providers/provider.h"

namespace supernova::providers {

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
