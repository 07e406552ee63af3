// The cuda provider's device state, shared by the provider and every piece it compiled: the
// device memory arena and the pool of streams (each with its cuDNN and cuBLAS handles).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <memory>
#include <mutex>
#include <string>
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
  // New contexts are made one at a time. cuDNN recommends that one handle exist before
  // threads create theirs concurrently, which the first runs of a busy server would do; making
  // a context is rare, so serialising all of them costs nothing in steady state.
  std::mutex create_mu_;
};

// Shared by the provider and every piece it compiled (a piece may outlive its provider).
// Declared in this order so that the contexts, which hold no memory of the arena, go first.
//
// How work on different streams is ordered: it never is, because none is pending across an
// entry point. Every call that queues work (a piece's Run, the provider's copies, the uploads
// at Compile) queues it on a stream of the pool and synchronises that stream before it returns.
// So a device tensor that the session (or a test) holds is complete, whichever stream reads it
// next, and a host buffer a copy read may change as soon as the copy returns. The alternative,
// one stream per Session::Run shared by the copies and the pieces through RunContext, would
// save the wait at the end of a copy to the device and of a piece whose output stays on the
// device, but it puts the provider's pending work in the session's hands (errors, profiling,
// when blocks may be reused) for a gain of a few microseconds a seam; pageable copies block
// the host for most of their length anyway.
struct DeviceState {
  explicit DeviceState(int device_id)
      : device(device_id), arena(std::make_shared<DeviceArena>(device_id)), pool(device_id) {}

  // Copies `bytes` between the host and this device on a stream of the pool and waits until it
  // is done. cudaMemcpy would not do: from pageable memory it returns once the source is
  // staged, before the device copy lands, and it runs on the legacy default stream, with which
  // the pool's non-blocking streams do not synchronise, so a kernel queued next could read the
  // destination half written. The caller makes the device current. `what` names the copy in
  // an error.
  Status CopyAndWait(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                     const std::string& what);

  const int device;
  const std::shared_ptr<DeviceArena> arena;
  ContextPool pool;
};

}  // namespace supernova::providers::cuda
