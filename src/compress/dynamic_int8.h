// Dynamic int8 quantization for MatMul-heavy models, in the standard ONNX form that ONNX
// Runtime's quantize_dynamic writes and every runtime with opset 11 reads. For each MatMul and
// Gemm whose B is a constant float initializer:
//   - B becomes an int8 initializer, symmetric (zero point 0, -127..127), one scale, or one per
//     column with `per_channel` (B's columns are the outputs: the form allows it at any opset);
//   - the activation is quantized at run time, per call: DynamicQuantizeLinear (uint8,
//     asymmetric, from the tensor's own range), once per tensor however many nodes read it;
//   - MatMulInteger(A_q, B_q, A_zero) -> Cast to float -> Mul(A_scale * B_scale) [-> Add bias]
//     replaces the node (Gemm's alpha joins B's scale, beta * C the bias).
// No calibration data is needed. The model's opset is raised to 11 where it is older
// (compress/opset_upgrade.h). Nodes that stay float are listed with the reason.
#pragma once

#include "compress/opset_upgrade.h"
#include "compress/qdq.h"
#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::compress {

struct DynamicInt8Report {
  std::vector<NodeDecision> decisions;  // every MatMul and Gemm of the graph
  int quantized = 0;
  OpsetUpgrade opset;
};

// Rewrites `g` as above. Fails (InvalidArgument, one line) when --exclude names a node the graph
// lacks, when no MatMul or Gemm can be quantized (naming the first and why), or when the opset
// cannot be raised to 11 (naming the op); `g` is then unchanged.
Result<DynamicInt8Report> QuantizeDynamic(ir::Graph& g, const QuantizeOptions& options);

}  // namespace supernova::compress
