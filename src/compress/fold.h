// Layer folding, an export step: linear ops with nothing nonlinear between them become one.
//   - constant subgraphs, Constant and Identity nodes (the optimizer's passes) first;
//   - BatchNormalization into the Conv, ConvTranspose or Gemm before it (the optimizer's pass);
//   - a constant Mul, Add, Sub or Div per output channel (or scalar) after a Conv, into its
//     weights and bias;
//   - a 1x1 Conv (stride 1, no padding, one group) after a Conv, into that Conv: the 1x1 acts
//     on each pixel alone, so the product is exact whatever the first Conv's padding. Done only
//     where it does not add MACs;
//   - MatMul/Gemm chains with constant weights, through a constant bias Add between them, where
//     the product does not add MACs;
//   - a per-input-channel constant Mul before a Conv of one group, into its weights: zero
//     padding commutes with a scale, so it is exact with padding too.
// The result is standard ONNX (no com.supernova ops).
#pragma once

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::compress {

struct FoldReport {
  int batch_norms = 0;    // BN folded into a Conv, ConvTranspose or Gemm
  int affine = 0;         // Mul/Add/Sub/Div after a Conv
  int conv_chains = 0;    // 1x1 Conv folded into the Conv before it
  int matmul_chains = 0;  // MatMul/Gemm folded into the one before it
  int input_scales = 0;   // Mul before a Conv
  int constants = 0;      // Constant and Identity nodes and constant subgraphs made initializers
  size_t nodes_before = 0, nodes_after = 0;
};

Result<FoldReport> FoldLayers(ir::Graph& g);

}  // namespace supernova::compress
