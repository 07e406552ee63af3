// The cuda provider as a plugin: supernova_provider_cuda.so, opened only by a session that
// asks for "cuda", so that no other process maps the CUDA runtime, cuBLAS or cuDNN.
#include "providers/plugin.h"
#include "providers/cuda/cuda_provider.h"

SUPERNOVA_PROVIDER_PLUGIN("cuda", &supernova::providers::cuda::MakeCudaProvider)
