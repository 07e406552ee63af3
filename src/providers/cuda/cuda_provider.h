// The cuda execution provider: cuDNN convolution and pooling, cuBLAS Gemm/MatMul, own
// kernels for the element-wise ops and the rest of the common set, a device memory arena and
// streams. Built only where the CUDA toolkit is, as a plugin (providers/plugin.h).
#pragma once

#include <memory>

#include "providers/provider.h"

namespace supernova::providers::cuda {

// Always succeeds: without a GPU the provider still answers Supports() (placement planning)
// and reports the reason through Available().
Result<std::unique_ptr<ExecutionProvider>> MakeCudaProvider(const ProviderOptions& options);

}  // namespace supernova::providers::cuda
