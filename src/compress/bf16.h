// bf16 weights: `supernova compress --bf16`.
//
// Stores the float weights of Conv, ConvTranspose, Gemm and MatMul as bfloat16 initializers
// read through Cast(to = float), standard ONNX (opset 13 made Cast take bfloat16), so the file
// holds half the bytes and any runtime can read it. The model is marked with metadata_props
// "supernova.precision" = "bf16": a Supernova session opening it computes its convolutions and
// products in bf16 (SessionOptions::precision); constant folding turns each Cast back into
// the float weight (the rounded values) before that.
#pragma once

#include <cstdint>

#include "ir/onnx_import.h"
#include "supernova/status.h"

namespace supernova::compress {

struct Bf16Stats {
  int nodes = 0;    // Conv/ConvTranspose/Gemm/MatMul whose weight is stored as bf16
  int weights = 0;  // initializers converted (one may feed several nodes)
  int64_t bytes_before = 0, bytes_after = 0;  // of those initializers
};

// Fails (InvalidArgument, one line) for a model below opset 13. A weight is converted only
// where every reader is such a node's weight input, so no other op sees a changed value.
Result<Bf16Stats> StoreWeightsBf16(ir::Model& model);

}  // namespace supernova::compress
