// Runs a fully convolutional model at another input size (`supernova compress --input-size`):
// a cheaper detector from the same weights, fewer pixels in, the same classes out.
//
// Re-declaring the input is not enough where a Resize carries constant `sizes` worked out for
// the original size (tf2onnx writes CenterNet's up-sampling so): at the new size the up-sampled
// map no longer meets the map it is concatenated with. Each such Resize gets the equivalent
// constant `scales` (sizes / input length at the original size), which follow the input. The
// result is checked by one run at the new size; a model that cannot run there (a Reshape to a
// fixed shape, strides that do not divide the new size) is refused with the reason.
#pragma once

#include <cstdint>
#include <string>

#include "ir/onnx_import.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::compress {

struct InputSize {
  int64_t height = 0, width = 0;
};

// "320x320" or "288x512" (height x width).
Result<InputSize> ParseInputSize(const std::string& spec);

struct InputResizeReport {
  std::string input;    // the input re-declared
  Shape before, after;  // its shape
  int resizes = 0;      // Resize nodes whose constant sizes became scales
};

// Re-declares the model's one image input (rank 4, NCHW or NHWC, static) at `size` and
// rewrites what depends on the old size. Leaves `model` untouched on error.
Result<InputResizeReport> ResizeInput(ir::Model& model, InputSize size, int threads = 0);

}  // namespace supernova::compress
