// Error translation for the cuda provider: every CUDA runtime, cuDNN and cuBLAS call goes
// through one of these, so a failure becomes a Status that names what was being done (the op's
// label) and the library's own error string, never an abort.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>
#include <string_view>

#include "supernova/status.h"

// The provider uses cuDNN's legacy convolution API, which cuDNN 8 and 9 both have (deprecated
// in 9, still there), and FMA math, which came with 8.0. The differences between 8 and 9 that
// touch it are the status codes (CheckCudnn). JetPack 5 and 6 ship cuDNN 8; desktops, 9.
#if !defined(CUDNN_MAJOR) || CUDNN_MAJOR < 8
#error "the cuda provider needs cuDNN 8 or later"
#endif

namespace supernova::providers::cuda {

// OK for cudaSuccess; otherwise Internal (ResourceExhausted for out-of-memory) with
// "<context>: <call>: <cudaGetErrorName>: <cudaGetErrorString>".
Status CheckCuda(cudaError_t e, std::string_view context, std::string_view call);
Status CheckCudnn(cudnnStatus_t e, std::string_view context, std::string_view call);
Status CheckCublas(cublasStatus_t e, std::string_view context, std::string_view call);

}  // namespace supernova::providers::cuda

// The call's own text names it in the message: "Conv 'c1': cudnnConvolutionForward(...): ...".
#define SN_CUDA_CHECK(context, expr) \
  SN_RETURN_IF_ERROR(::supernova::providers::cuda::CheckCuda((expr), (context), #expr))
#define SN_CUDNN_CHECK(context, expr) \
  SN_RETURN_IF_ERROR(::supernova::providers::cuda::CheckCudnn((expr), (context), #expr))
#define SN_CUBLAS_CHECK(context, expr) \
  SN_RETURN_IF_ERROR(::supernova::providers::cuda::CheckCublas((expr), (context), #expr))
