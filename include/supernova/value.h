// Value: what an ONNX graph passes between its nodes. Most values are tensors; ONNX also has
// sequences of tensors (SequenceConstruct, SplitToSequence, loop-carried lists) and optionals
// (a tensor or a sequence, or nothing).
//
//   supernova::Value v = tensor;                                   // a tensor
//   auto s = supernova::Value::Sequence(DataType::kFloat32, {a, b});
//   auto n = supernova::Value::None(ValueKind::kOptionalTensor, DataType::kFloat32);
//   if (s.is_sequence()) for (const Tensor& t : s.sequence()) ...
//
// An optional that holds something is that thing: a Value is never "optional of a tensor" at
// run time, only the tensor or None. A sequence is immutable, so copying a Value copies
// handles: the sequence ops build new ones, sharing the elements' buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "supernova/tensor.h"

namespace supernova {

// The type of a model's value, as ONNX declares it (TypeProto): a tensor, a sequence of
// tensors, or an optional of either. The element type is the dtype beside it.
enum class ValueKind : uint8_t { kTensor, kSequence, kOptionalTensor, kOptionalSequence };
// "tensor", "sequence", "optional(tensor)", "optional(sequence)"
std::string ValueKindName(ValueKind kind);
inline bool IsOptional(ValueKind k) {
  return k == ValueKind::kOptionalTensor || k == ValueKind::kOptionalSequence;
}

class Value {
 public:
  enum class Holds : uint8_t { kNothing, kTensor, kSequence, kNone };

  Value() = default;  // undefined: !defined()
  Value(Tensor t);    // NOLINT: a tensor is a value
  // A sequence of tensors of `elem_type` (all elements must have it).
  static Value Sequence(DataType elem_type, std::vector<Tensor> items);
  // An empty optional; `kind` is the optional's declared type (kOptionalTensor/Sequence).
  static Value None(ValueKind kind, DataType elem_type);

  // False for a default-made Value and for an undefined tensor.
  bool defined() const;
  Holds holds() const { return holds_; }
  bool is_tensor() const { return holds_ == Holds::kTensor; }
  bool is_sequence() const { return holds_ == Holds::kSequence; }
  bool is_none() const { return holds_ == Holds::kNone; }
  // The tensor's dtype, or the element type of a sequence or None.
  DataType dtype() const;
  // For None: what it is an optional of.
  ValueKind none_kind() const { return none_kind_; }

  const Tensor& tensor() const { return tensor_; }  // undefined unless is_tensor()
  // The elements (empty unless is_sequence()).
  const std::vector<Tensor>& sequence() const;

  // "float32[2,3]", "sequence(float32, 3 elements)", "none (optional(tensor) of float32)"
  std::string Describe() const;

 private:
  Holds holds_ = Holds::kNothing;
  DataType elem_type_ = DataType::kUndefined;
  ValueKind none_kind_ = ValueKind::kOptionalTensor;
  Tensor tensor_;
  std::shared_ptr<const std::vector<Tensor>> items_;
};

}  // namespace supernova
