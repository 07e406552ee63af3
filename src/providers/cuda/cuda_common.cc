#include "providers/cuda/cuda_common.h"

namespace supernova::providers::cuda {
namespace {

// Only the call's name, not its arguments: the message stays one readable line.
std::string_view CallName(std::string_view call) {
  const size_t paren = call.find('(');
  return paren == std::string_view::npos ? call : call.substr(0, paren);
}

std::string Message(std::string_view context, std::string_view call, std::string_view error) {
  std::string m(context);
  if (!m.empty()) m += ": ";
  m += CallName(call);
  m += ": ";
  m += error;
  return m;
}

}  // namespace

Status CheckCuda(cudaError_t e, std::string_view context, std::string_view call) {
  if (e == cudaSuccess) return Status::Ok();
  // Clears the sticky "last error" of a non-fatal failure so later calls are not blamed.
  (void)cudaGetLastError();
  std::string error = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
  std::string m = Message(context, call, error);
  if (e == cudaErrorMemoryAllocation) return Status::ResourceExhausted(std::move(m));
  return Status::Internal(std::move(m));
}

Status CheckCudnn(cudnnStatus_t e, std::string_view context, std::string_view call) {
  if (e == CUDNN_STATUS_SUCCESS) return Status::Ok();
  std::string m = Message(context, call, cudnnGetErrorString(e));
#if CUDNN_MAJOR >= 9
  // cuDNN 9 numbers its codes in families of a thousand (3xxx: not supported, of any kind,
  // the architecture and missing prerequisites among them) and renamed ALLOC_FAILED.
  const bool out_of_memory = e == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
                             e == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
  const bool unsupported =
      static_cast<int>(e) / 1000 == static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED) / 1000;
#else
  // cuDNN 8 (JetPack 5 and 6) has one flat list, in which every code divided by a thousand is
  // 0: the families above would call every failure "not supported".
  const bool out_of_memory = e == CUDNN_STATUS_ALLOC_FAILED;
  const bool unsupported = e == CUDNN_STATUS_NOT_SUPPORTED || e == CUDNN_STATUS_ARCH_MISMATCH ||
                           e == CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING;
#endif
  if (out_of_memory) return Status::ResourceExhausted(std::move(m));
  if (unsupported) return Status::Unimplemented(std::move(m));
  return Status::Internal(std::move(m));
}

Status CheckCublas(cublasStatus_t e, std::string_view context, std::string_view call) {
  if (e == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  std::string m = Message(context, call, cublasGetStatusString(e));
  if (e == CUBLAS_STATUS_ALLOC_FAILED) return Status::ResourceExhausted(std::move(m));
  return Status::Internal(std::move(m));
}

}  // namespace supernova::providers::cuda
