// The opencv execution provider: hands the pieces it claims, as ONNX bytes, to OpenCV's DNN
// module and runs them with its backend and target (CPU; OpenCL where a device exists).
// Built only where OpenCV's DNN module is, as a plugin (providers/plugin.h).
#pragma once

#include <memory>

#include "providers/provider.h"

namespace supernova::providers::opencv {

Result<std::unique_ptr<ExecutionProvider>> MakeOpenCvProvider(const ProviderOptions& options);

}  // namespace supernova::providers::opencv
