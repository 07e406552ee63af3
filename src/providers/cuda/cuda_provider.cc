#include "providers/cuda/cuda_provider.h"

#include <cuda_runtime_api.h>

#include <mutex>
#include <new>
#include <string>

#include "providers/cuda/cuda_common.h"
#include "providers/cuda/piece.h"
#include "providers/cuda/scoped_device.h"
#include "providers/cuda/supports.h"

namespace supernova::providers::cuda {
namespace {

class CudaProvider final : public ExecutionProvider {
 public:
  explicit CudaProvider(const ProviderOptions& options)
      : state_(std::make_shared<DeviceState>(options.device_id)) {}

  std::string_view name() const override { return "cuda"; }
  Device device() const override { return {DeviceType::kCuda, state_->device}; }

  // Probed once: the first CUDA call loads the driver (slow), and the answer does not change
  // while the process lives.
  Status Available() const override {
    std::call_once(probe_once_, [this] { probe_ = Probe(); });
    return probe_;
  }

  Support Supports(const ir::Graph& graph, const ir::Node& node) const override {
    return SupportsNode(graph, node);
  }

  Result<std::unique_ptr<CompiledPiece>> Compile(const Piece& piece) const override {
    SN_RETURN_IF_ERROR(Available());
    return CompileCudaPiece(state_, piece);
  }

  Status CopyToDevice(const Tensor& host, Tensor* device) const override {
    if (!host.on_host())
      return Status::InvalidArgument("cuda: CopyToDevice of a tensor on " +
                                     host.device().ToString());
    SN_RETURN_IF_ERROR(Available());
    ScopedDevice scope;
    SN_CUDA_CHECK("cuda: CopyToDevice", scope.Set(state_->device));
    Tensor t;
    try {
      t = Tensor(host.dtype(), host.shape(), std::shared_ptr<Allocator>(state_->arena));
    } catch (const std::bad_alloc&) {
      return Status::ResourceExhausted("cuda: out of device memory for " +
                                       ShapeToString(host.shape()));
    }
    // Complete when this returns (DeviceState explains why a copy waits rather than sharing a
    // stream with the piece that reads it): the piece that reads it may run on any stream.
    SN_RETURN_IF_ERROR(state_->CopyAndWait(t.raw_data(), host.raw_data(), host.nbytes(),
                                           cudaMemcpyHostToDevice, "cuda: CopyToDevice"));
    *device = std::move(t);
    return Status::Ok();
  }

  Status CopyToHost(const Tensor& device, Tensor* host) const override {
    if (device.device() != this->device())
      return Status::InvalidArgument("cuda: CopyToHost of a tensor on " +
                                     device.device().ToString() + ", not " +
                                     this->device().ToString());
    ScopedDevice scope;
    SN_CUDA_CHECK("cuda: CopyToHost", scope.Set(state_->device));
    Tensor t(device.dtype(), device.shape());
    // Pieces synchronise their stream before Run returns, so the device tensor is complete;
    // the copy itself runs on a pool stream rather than the legacy default stream, which would
    // also wait for whatever other libraries in the process queued there.
    SN_RETURN_IF_ERROR(state_->CopyAndWait(t.raw_data(), device.raw_data(), device.nbytes(),
                                           cudaMemcpyDeviceToHost, "cuda: CopyToHost"));
    *host = std::move(t);
    return Status::Ok();
  }

 private:
  Status Probe() const {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      return Status::Unavailable(std::string("no CUDA device: ") + cudaGetErrorString(e));
    }
    if (count == 0) return Status::Unavailable("no CUDA device: none found");
    if (state_->device < 0 || state_->device >= count)
      return Status::Unavailable("no CUDA device: device " + std::to_string(state_->device) +
                                 " asked for, " + std::to_string(count) + " present");
    // Creating the device's context proves it usable (not prohibited, not taken by another
    // process in exclusive mode); the caller's current device is left as it was.
    ScopedDevice scope;
    cudaError_t set = scope.Set(state_->device);
    if (set == cudaSuccess) set = cudaFree(nullptr);
    if (set != cudaSuccess) {
      (void)cudaGetLastError();
      return Status::Unavailable("no CUDA device: device " + std::to_string(state_->device) + ": " +
                                 cudaGetErrorString(set));
    }
    return Status::Ok();
  }

  const std::shared_ptr<DeviceState> state_;
  mutable std::once_flag probe_once_;
  mutable Status probe_;  // written once under probe_once_
};

}  // namespace

Result<std::unique_ptr<ExecutionProvider>> MakeCudaProvider(const ProviderOptions& options) {
  return std::unique_ptr<ExecutionProvider>(new CudaProvider(options));
}

}  // namespace supernova::providers::cuda
