// Static shape and type inference of one node's first output, from what is known of its
// inputs: the rule each op registers (ops/op.h), and the helpers the rules share. The driver
// over a whole graph is ops/shape_inference.h.
//
// A rule returns output 0's dims (a Dim may be unknown, or a symbol carried through), or
// nullopt when not even the rank is known; it may set ctx.dtype, which starts as input 0's.
// Attributes may hold anything: a rule never trusts them, and leaves a dim unknown where the
// arithmetic would overflow or go negative (the kernel then reports the node at run time).
#pragma once

#include <optional>
#include <vector>

#include "ir/graph.h"

namespace supernova::ops {

using Dims = std::vector<ir::Dim>;

// What inference knows about one input of the node.
struct InferInput {
  const ir::ValueType* type = nullptr;  // null when unknown (or the input is omitted)
  const Tensor* constant = nullptr;     // set when the input is an initializer
  bool has_rank() const { return type && type->dims; }
  const Dims& dims() const { return *type->dims; }
};

struct InferContext {
  const ir::Node& node;
  const std::vector<InferInput>& inputs;  // one per node input
  int64_t opset;                          // of the node's domain
  DataType dtype = DataType::kUndefined;  // output 0's; input 0's unless the rule says
  // Output 0's kind, input 0's unless the rule says (the sequence ops, Optional): a sequence
  // or optional has no dims, and its rule returns nullopt.
  ValueKind kind = ValueKind::kTensor;

  // Input i, or an unknown one when the node has fewer.
  const InferInput& in(size_t i) const {
    static const InferInput kNone;
    return i < inputs.size() ? inputs[i] : kNone;
  }
};

using InferFn = std::optional<Dims> (*)(InferContext& ctx);

// --- rules that whole families share -------------------------------------------------------
// Output 0 has input 0's shape and dtype (element-wise unary ops, normalizations, Softmax).
std::optional<Dims> SameShape(InferContext& ctx);
// Output 0 has input 0's dtype; its shape is known only at run time (Split, TopK, Unique...).
std::optional<Dims> SameDtype(InferContext& ctx);
// Multidirectional (NumPy) broadcasting of all inputs; dtype of input 0.
std::optional<Dims> BroadcastShape(InferContext& ctx);
// The same, with a bool output (comparisons and logic).
std::optional<Dims> BroadcastToBool(InferContext& ctx);

// --- helpers -----------------------------------------------------------------------------
// The values of a constant int32/int64 input, or nullopt.
std::optional<std::vector<int64_t>> ConstInts(const InferInput& in);
// Broadcasts the dims of inputs that all have a rank; nullopt when one has none or two known
// dims disagree (left to run time).
std::optional<Dims> BroadcastDims(const std::vector<const Dims*>& dims);
// [N, C, spatial...] of a convolution (`is_conv`: channels and kernel from the weights) or a
// pooling window, from the window attributes.
std::optional<Dims> WindowShape(const InferContext& ctx, bool is_conv);

// A dim from arithmetic on attribute values: unknown when a step overflows or the result is
// negative.
struct DimMath {
  bool ok = true;
  int64_t v;
  explicit DimMath(int64_t x) : v(x) {}
  DimMath& operator+=(int64_t x) {
    ok = ok && !__builtin_add_overflow(v, x, &v);
    return *this;
  }
  DimMath& operator-=(int64_t x) {
    ok = ok && !__builtin_sub_overflow(v, x, &v);
    return *this;
  }
  DimMath& operator*=(int64_t x) {
    ok = ok && !__builtin_mul_overflow(v, x, &v);
    return *this;
  }
  ir::Dim dim() const { return ok && v >= 0 ? ir::Dim::Known(v) : ir::Dim{}; }
};

}  // namespace supernova::ops
