#include "providers/provider.h"

#include <algorithm>
#include <map>
#include <mutex>

#ifdef SUPERNOVA_WITH_CUDA
#include "providers/cuda/cuda_provider.h"
#endif
#ifdef SUPERNOVA_WITH_OPENCV
#include "providers/opencv/opencv_provider.h"
#endif

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

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, ProviderFactory, std::less<>> factories;  // GUARDED_BY(mu)
};

// The providers built into this binary, one line each.
Registry& GetRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry;
#ifdef SUPERNOVA_WITH_CUDA
    r->factories.emplace("cuda", &cuda::MakeCudaProvider);
#endif
#ifdef SUPERNOVA_WITH_OPENCV
    r->factories.emplace("opencv", &opencv::MakeOpenCvProvider);
#endif
    return r;
  }();
  return *registry;
}

}  // namespace

Result<std::unique_ptr<ExecutionProvider>> CreateProvider(std::string_view name,
                                                          const ProviderOptions& options) {
  ProviderFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known = "cpu, cpu_reference";
    for (const std::string& n : ProviderNames()) known += ", " + n;
    return Status::InvalidArgument("unknown execution provider '" + std::string(name) +
                                   "' (this build has: " + known + ")");
  }
  return factory(options);
}

std::vector<std::string> ProviderNames() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, f] : r.factories) names.push_back(name);
  return names;
}

void RegisterProvider(std::string name, ProviderFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories.insert_or_assign(std::move(name), std::move(factory));
}

}  // namespace supernova::providers
