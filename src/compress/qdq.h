// Static int8 quantization into standard QDQ ONNX: the form ONNX Runtime's quantizer writes and
// other runtimes read. For each node quantized (Conv, ConvTranspose, Gemm, MatMul with a
// constant float weight):
//   - the weight becomes an int8 initializer, symmetric (zero point 0, range -127..127), with a
//     scale per output channel (--per-channel) or one scale, behind a DequantizeLinear;
//   - the bias becomes int32 with scale x_scale * w_scale, behind a DequantizeLinear;
//   - the activation it reads is quantized where it is made: T -> QuantizeLinear -> uint8 ->
//     DequantizeLinear -> every reader of T (the graph's outputs keep T), uint8 asymmetric,
//     one scale, from the calibrated range widened to hold 0; with --per-channel, an
//     activation only depthwise convolutions read is int8, symmetric, one scale per channel
//     (a depthwise convolution's input channel is its output channel, so the scales join the
//     weight's in its output scales);
//   - a channel Concat whose result is quantized or goes through a Relu gets its inputs
//     quantized with the result's scale and zero point (the Relu's, where that is quantized),
//     so that it concatenates integers;
//   - a squeeze-and-excitation product's full-size operand is quantized when its result is,
//     so that the pooling and the product read integers.
// A runtime that understands QDQ runs the node in int8; any other computes the same numbers in
// float. Nodes that stay float are listed with the reason.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "compress/calibration.h"
#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::compress {

struct QuantizeOptions {
  bool per_channel = false;
  // Nodes that stay float, by name or by the name of their first output (for unnamed nodes).
  std::set<std::string> exclude;
};

struct NodeDecision {
  std::string node;  // "Conv 'conv1'"
  size_t index = 0;  // in graph.nodes
  bool quantized = false;
  std::string reason;  // why it stays float
};

struct QuantizePlan {
  std::vector<NodeDecision> decisions;   // every Conv/ConvTranspose/Gemm/MatMul of the graph
  std::vector<std::string> activations;  // the float tensors to calibrate and quantize
  // Each activation's channel axis as its first quantized reader sees it (1 for Conv and Gemm,
  // -1, the last, for MatMul): where bias correction takes the means.
  std::vector<int> activation_axes;
  // For each node quantized (index into graph.nodes): which input is the activation, which the
  // weight, which the bias (-1: none, or left float).
  struct Site {
    size_t node = 0;
    int activation = 0, weight = 1, bias = -1;
    int axis = 0;          // the weight's output-channel axis (-1: one scale)
    int channel_axis = 1;  // the activation's channel axis
  };
  std::vector<Site> sites;
  // The activations whose quantized readers are all depthwise convolutions: with
  // --per-channel, one scale per channel (axis 1), int8 and symmetric.
  std::set<std::string> channelwise;
  // Channel Concats whose inputs are quantized alike, so that a runtime concatenates integers:
  // concat output -> the activation whose scale and zero point they take (the output itself,
  // or the Relu after it: zero point 0, so the quantization is that Relu).
  std::map<std::string, std::string> aligned_concats;
  // Squeeze-and-excitation products x * gate ([N, C, H, W] by [N, C, 1, 1]) whose result is
  // quantized: x is quantized too, so its producer writes integers, its pooling reads them, and
  // the product scales them. x -> the product's output.
  std::map<std::string, std::string> gated;
  // The inputs of Resizes that alone feed an aligned Concat (CenterNet's up-sampled maps),
  // quantized with ranges of their own, so that a runtime resizes integers: input -> the
  // Concat's output.
  std::map<std::string, std::string> resized;
};

// Which nodes can be quantized and what must be calibrated. Reads the value types of `g`
// (ops::InferShapes, which the optimizer runs): an input of unknown type stays float. Fails
// (InvalidArgument) when
// --exclude names a node the graph lacks, or when the opset is too old for QDQ (10; 13 for
// per-channel scales, which need DequantizeLinear's axis).
Result<QuantizePlan> PlanQuantization(const ir::Graph& g, const QuantizeOptions& options);

// Takes site `index` out of the plan (the node stays float, with `reason` in its decision), and
// the activations only it read.
void KeepFloat(const ir::Graph& g, QuantizePlan* plan, size_t index, const std::string& reason);

// Rewrites `g` into QDQ form with `ranges` (one per plan.activations entry). Where `means`
// holds the per-channel means of a node's input (axis plan.activation_axes), the node's bias
// absorbs the expected shift its rounded weights cause (bias correction; a Conv without a bias
// gets one). The graph stays topologically sorted and valid.
Status ApplyQuantization(ir::Graph& g, const QuantizePlan& plan,
                         const std::map<std::string, Range>& ranges,
                         const std::map<std::string, std::vector<double>>& means,
                         const QuantizeOptions& options);

// Fails (InvalidArgument, one line) when `exclude` names neither a node nor a node's first
// output of `g`.
Status CheckExcludes(const ir::Graph& g, const std::set<std::string>& exclude);
// Whether `exclude` names `n` (by its name, or its first output's).
bool Excluded(const ir::Node& n, const std::set<std::string>& exclude);
// Removes the initializers no node (or subgraph) reads and no graph output returns.
void DropUnreadInitializers(ir::Graph& g);

// Symmetric int8 weights: per channel along `axis`, or one scale when axis < 0.
struct QuantizedWeight {
  Tensor q, scale, zero_point;
  std::vector<float> scales;  // one per channel (the same value repeated when per tensor)
};
QuantizedWeight QuantizeWeight(const Tensor& w, int axis);

// Whether `n` is a depthwise convolution: one input channel a group, one output a group.
bool IsDepthwise(const ir::Graph& g, const ir::Node& n);

// uint8 asymmetric parameters of a range (widened to hold 0): real = (q - zero_point) * scale.
struct QuantParams {
  float scale = 1;
  uint8_t zero_point = 0;
};
QuantParams ActivationParams(const Range& r);

}  // namespace supernova::compress
