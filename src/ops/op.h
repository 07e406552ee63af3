// Operators: one registration per op says what the runtime knows about it.
//
//   const ops::OpDef* def = ops::FindOp(node);       // nullptr: no such op in this runtime
//   def->kernel(ctx);                                // its reference kernel
//   def->infer                                       // output 0's shape and dtype
//   def->kind == ops::OpKind::kDataMovement          // moves bytes, computes nothing
//   def->activation                                  // the activation it is, if any
//
// Each family of ops registers in its own file (unary.cc: Abs ... Tanh), in a table at the
// end of that file, next to its kernels and shape rules; registry.cc lists the families, one
// line each. Adding an op to a family touches its file and its test. Passes, the partitioner
// and the providers read these fields instead of keeping lists of op names of their own; what
// a provider itself can run (its kernels, their limits) stays with the provider.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ir/graph.h"
#include "ops/activation_kind.h"
#include "ops/infer.h"
#include "ops/kernel.h"

namespace supernova::ops {

// What an op does to data, for those that treat a family alike.
enum class OpKind : uint8_t {
  kCompute,
  // Moves, copies or relabels elements and computes none (Reshape, Transpose, Concat, Slice,
  // Gather, Cast, ...): alone on a device it would cost two copies and save nothing.
  kDataMovement,
};

struct OpDef {
  std::string_view op_type;
  KernelFn kernel;          // the reference kernel: the cpu's fallback and cpu_reference
  InferFn infer = nullptr;  // output 0's dims and dtype; nullptr: known only at run time
  OpKind kind = OpKind::kCompute;
  // For an element-wise activation (Relu, Clip, HardSwish, ...): which one, so that fusions and
  // providers' post-ops recognise it by this, not by its name.
  ActivationKind activation = ActivationKind::kNone;
  std::string_view domain = {};  // "" for ONNX's default domain
  // Whether the kernel takes string tensors (std::string elements, supernova/tensor.h). Every
  // other kernel may move bytes with memcpy, so RunKernel refuses it a string input.
  bool strings = false;
  // False for an op whose outputs are drawn at random on every run (ops/random.cc), seeded or
  // not: passes must neither compute it ahead of the run (constant folding) nor merge two of
  // its nodes as equal.
  bool deterministic = true;
};

// Runs def's kernel, after refusing a string input to a kernel that does not take strings.
// Every caller of a reference kernel goes through it.
Status RunKernel(const OpDef& def, KernelContext& ctx);

// The op of that domain and type ("ai.onnx" is ""), or nullptr.
const OpDef* FindOp(std::string_view domain, std::string_view op_type);
inline const OpDef* FindOp(const ir::Node& node) { return FindOp(node.domain, node.op_type); }
// Every registered op, sorted by domain, then type.
std::span<const OpDef* const> AllOps();

// The families (registry.cc); each is defined in its op file.
std::span<const OpDef> AffineGridOps();
std::span<const OpDef> BatchNormalizationOps();
std::span<const OpDef> BinaryOps();
std::span<const OpDef> CastOps();
std::span<const OpDef> CenterCropPadOps();
std::span<const OpDef> Col2ImOps();
std::span<const OpDef> CompressOps();
std::span<const OpDef> ConcatOps();
std::span<const OpDef> ConstantOps();
std::span<const OpDef> ConvOps();
std::span<const OpDef> ConvTransposeOps();
std::span<const OpDef> CumSumOps();
std::span<const OpDef> DepthToSpaceOps();
std::span<const OpDef> DetOps();
std::span<const OpDef> DftOps();
std::span<const OpDef> DropoutOps();
std::span<const OpDef> DynamicQuantMatMulOps();
std::span<const OpDef> EinsumOps();
std::span<const OpDef> FusedConvOps();
std::span<const OpDef> GatherOps();
std::span<const OpDef> GatherNDOps();
std::span<const OpDef> GemmOps();
std::span<const OpDef> GridSampleOps();
std::span<const OpDef> IdentityOps();
std::span<const OpDef> IfOps();
std::span<const OpDef> InstanceNormalizationOps();
std::span<const OpDef> LayerNormalizationOps();
std::span<const OpDef> LoopOps();
std::span<const OpDef> LrnOps();
std::span<const OpDef> LossOps();
std::span<const OpDef> MatMulOps();
std::span<const OpDef> MaxUnpoolOps();
std::span<const OpDef> MeanVarianceNormalizationOps();
std::span<const OpDef> MelWeightMatrixOps();
std::span<const OpDef> NonMaxSuppressionOps();
std::span<const OpDef> NonZeroOps();
std::span<const OpDef> OneHotOps();
std::span<const OpDef> OptionalOps();
std::span<const OpDef> PadOps();
std::span<const OpDef> PoolOps();
std::span<const OpDef> QuantConvOps();
std::span<const OpDef> QLinearContribOps();
std::span<const OpDef> QuantizeOps();
std::span<const OpDef> QuantMatMulOps();
std::span<const OpDef> RandomOps();
std::span<const OpDef> RecurrentOps();
std::span<const OpDef> ReduceOps();
std::span<const OpDef> ReshapeOps();
std::span<const OpDef> ResizeOps();
std::span<const OpDef> ReverseSequenceOps();
std::span<const OpDef> RoiAlignOps();
std::span<const OpDef> ScanOps();
std::span<const OpDef> SequenceMapOps();
std::span<const OpDef> SequenceOps();
std::span<const OpDef> SequenceSplitConcatOps();
std::span<const OpDef> ShapeOps();
std::span<const OpDef> SliceOps();
std::span<const OpDef> SoftmaxOps();
std::span<const OpDef> SplitOps();
std::span<const OpDef> StringNormalizerOps();
std::span<const OpDef> StftOps();
std::span<const OpDef> TfIdfVectorizerOps();
std::span<const OpDef> TileOps();
std::span<const OpDef> TopKOps();
std::span<const OpDef> TrainingOps();
std::span<const OpDef> TransposeOps();
std::span<const OpDef> TriluOps();
std::span<const OpDef> UnaryOps();
std::span<const OpDef> UniqueOps();
std::span<const OpDef> VariadicOps();
std::span<const OpDef> WindowFunctionOps();

}  // namespace supernova::ops
