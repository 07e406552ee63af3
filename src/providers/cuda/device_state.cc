#include "providers/cuda/device_state.h"

#include <string>
#include <utility>

#include "providers/cuda/cuda_common.h"
#include "providers/cuda/scoped_device.h"

namespace supernova::providers::cuda {

StreamContext::~StreamContext() {
  // Errors are ignored: nothing can be done about them while tearing down.
  ScopedDevice scope;
  if (scope.Set(device) != cudaSuccess) return;
  if (cublas) (void)cublasDestroy(cublas);
  if (cudnn) (void)cudnnDestroy(cudnn);
  if (stream) (void)cudaStreamDestroy(stream);
}

Result<std::unique_ptr<StreamContext>> ContextPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      std::unique_ptr<StreamContext> ctx = std::move(free_.back());
      free_.pop_back();
      return ctx;
    }
  }
  const std::string what = "cuda: creating a stream context";
  std::lock_guard<std::mutex> creating(create_mu_);
  ScopedDevice scope;
  SN_CUDA_CHECK(what, scope.Set(device_));
  auto ctx = std::make_unique<StreamContext>();
  ctx->device = device_;
  // Non-blocking: no implicit synchronisation with the legacy default stream, which other
  // libraries in the process may use.
  SN_CUDA_CHECK(what, cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
  SN_CUDNN_CHECK(what, cudnnCreate(&ctx->cudnn));
  SN_CUDNN_CHECK(what, cudnnSetStream(ctx->cudnn, ctx->stream));
  SN_CUBLAS_CHECK(what, cublasCreate(&ctx->cublas));
  SN_CUBLAS_CHECK(what, cublasSetStream(ctx->cublas, ctx->stream));
  // Plain float32 arithmetic (no TF32), so results match the cpu provider's closely.
  SN_CUBLAS_CHECK(what, cublasSetMathMode(ctx->cublas, CUBLAS_DEFAULT_MATH));
  return ctx;
}

void ContextPool::Release(std::unique_ptr<StreamContext> ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(ctx));
}

Status DeviceState::CopyAndWait(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                                const std::string& what) {
  if (bytes == 0) return Status::Ok();
  SN_ASSIGN_OR_RETURN(std::unique_ptr<StreamContext> ctx, pool.Acquire());
  Status queued =
      CheckCuda(cudaMemcpyAsync(dst, src, bytes, kind, ctx->stream), what, "cudaMemcpyAsync");
  // Waits even when queueing failed, so that the context goes back to the pool idle.
  Status done = CheckCuda(cudaStreamSynchronize(ctx->stream), what, "cudaStreamSynchronize");
  pool.Release(std::move(ctx));
  return queued.ok() ? done : queued;
}

}  // namespace supernova::providers::cuda
