// The cuda provider's device state, shared by the provider and every piece it compiled: the
// device memory arena and the pool of streams (each with its cuDNN and cuBLAS handles).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <memory>
#include <mutex>
#include <vector>

#include "providers/cuda/arena.h"
#include "supernova/status.h"

namespace supernova::providers::cuda {

// What one Run needs of its own: a stream and library handles bound to it. cuDNN and cuBLAS
// handles may not be used by two threads at once, so each Run takes a whole context.
struct StreamContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  ~StreamContext();
};

// Contexts made on demand and reused, so that concurrent Runs each get one and a steady load
// creates none. Thread-safe.
class ContextPool {
 public:
  explicit ContextPool(int device) : device_(device) {}
  // A free context, or a new one (which needs the device: fails cleanly without one).
  Result<std::unique_ptr<StreamContext>> Acquire();
  void Release(std::unique_ptr<StreamContext> ctx);

 private:
  const int device_;
  std::mutex mu_;
  std::vector<std::unique_ptr<StreamContext>> free_;  // GUARDED_BY(mu_)
};

// Shared by the provider and every piece it compiled (a piece may outlive its provider).
// Declared in this order so that the contexts, which hold no memory of the arena, go first.
struct DeviceState {
  explicit DeviceState(int device_id)
      : device(device_id), arena(std::make_shared<DeviceArena>(device_id)), pool(device_id) {}
  const int device;
  const std::shared_ptr<DeviceArena> arena;
  ContextPool pool;
};

}  // namespace supernova::providers::cuda
