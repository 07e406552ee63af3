// How CUDA, cuDNN and cuBLAS failures become a Status: the code a caller acts on (out of
// memory, not supported, anything else) and a message naming what failed. Needs no device:
// the libraries describe their codes without one.
#include "providers/cuda/cuda_common.h"

#include <gtest/gtest.h>

#include <string>

namespace supernova::providers::cuda {
namespace {

TEST(CudaCommonTest, CudnnCodesMapByKind) {
  Status ok = CheckCudnn(CUDNN_STATUS_SUCCESS, "Conv 'c1'", "cudnnConvolutionForward(h, ...)");
  EXPECT_TRUE(ok.ok());

  Status unsupported =
      CheckCudnn(CUDNN_STATUS_NOT_SUPPORTED, "Conv 'c1'", "cudnnConvolutionForward(h, ...)");
  EXPECT_EQ(unsupported.code(), Status::Code::kUnimplemented);
  // The call's name without its arguments, then cuDNN's own words.
  EXPECT_EQ(unsupported.message(), std::string("Conv 'c1': cudnnConvolutionForward: ") +
                                       cudnnGetErrorString(CUDNN_STATUS_NOT_SUPPORTED));

  EXPECT_EQ(CheckCudnn(CUDNN_STATUS_BAD_PARAM, "", "f()").code(), Status::Code::kInternal);
  EXPECT_EQ(CheckCudnn(CUDNN_STATUS_EXECUTION_FAILED, "", "f()").code(), Status::Code::kInternal);
#if CUDNN_MAJOR >= 9
  const cudnnStatus_t out_of_memory = CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED;
  EXPECT_EQ(CheckCudnn(CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH, "", "f()").code(),
            Status::Code::kUnimplemented);
  EXPECT_EQ(CheckCudnn(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED, "", "f()").code(),
            Status::Code::kResourceExhausted);
#else
  const cudnnStatus_t out_of_memory = CUDNN_STATUS_ALLOC_FAILED;
  EXPECT_EQ(CheckCudnn(CUDNN_STATUS_ARCH_MISMATCH, "", "f()").code(), Status::Code::kUnimplemented);
#endif
  EXPECT_EQ(CheckCudnn(out_of_memory, "", "f()").code(), Status::Code::kResourceExhausted);
}

TEST(CudaCommonTest, CublasAndCudaCodesMapByKind) {
  EXPECT_TRUE(CheckCublas(CUBLAS_STATUS_SUCCESS, "", "f()").ok());
  EXPECT_EQ(CheckCublas(CUBLAS_STATUS_ALLOC_FAILED, "", "f()").code(),
            Status::Code::kResourceExhausted);
  Status bad = CheckCublas(CUBLAS_STATUS_INVALID_VALUE, "Gemm 'g'", "cublasSgemm(h, ...)");
  EXPECT_EQ(bad.code(), Status::Code::kInternal);
  EXPECT_EQ(bad.message().rfind("Gemm 'g': cublasSgemm: ", 0), 0u) << bad.message();

  EXPECT_TRUE(CheckCuda(cudaSuccess, "", "f()").ok());
  EXPECT_EQ(CheckCuda(cudaErrorMemoryAllocation, "", "f()").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(CheckCuda(cudaErrorInvalidValue, "copy", "cudaMemcpyAsync(...)").message(),
            std::string("copy: cudaMemcpyAsync: cudaErrorInvalidValue: ") +
                cudaGetErrorString(cudaErrorInvalidValue));
}

}  // namespace
}  // namespace supernova::providers::cuda
