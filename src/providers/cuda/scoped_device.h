// Which device the calling thread works on is the caller's: every entry point of the cuda
// provider (Available, Compile, Run, the copies, the arena, tearing down a stream) makes its own
// device current through a ScopedDevice, which makes the caller's current again on the way out.
// An application that drives two GPUs, or another CUDA library in the same process, would
// otherwise find its kernels and allocations silently moved to the provider's device.
#pragma once

#include <cuda_runtime_api.h>

namespace supernova::providers::cuda {

class ScopedDevice {
 public:
  ScopedDevice() = default;
  ~ScopedDevice() {
    if (previous_ < 0) return;
    int current = -1;
    // Errors are ignored: nothing can be done about them on the way out (at process exit the
    // runtime may already be unloading); a failed call's sticky error is cleared.
    if (cudaGetDevice(&current) != cudaSuccess || current != previous_)
      if (cudaSetDevice(previous_) != cudaSuccess) (void)cudaGetLastError();
  }
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

  // Makes `device` current until the scope ends; cudaSuccess, or the error of reading or
  // setting the device (then nothing changed and nothing is restored). Call it once per scope.
  [[nodiscard]] cudaError_t Set(int device) {
    int current = -1;
    if (const cudaError_t e = cudaGetDevice(&current); e != cudaSuccess) return e;
    previous_ = current;
    // cudaSetDevice is cheap but not free; most calls find the device already current.
    return current == device ? cudaSuccess : cudaSetDevice(device);
  }

 private:
  int previous_ = -1;  // the caller's device, once Set read it
};

}  // namespace supernova::providers::cuda
