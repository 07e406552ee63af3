#include "supernova/value.h"

namespace supernova {

std::string ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kTensor:
      return "tensor";
    case ValueKind::kSequence:
      return "sequence";
    case ValueKind::kOptionalTensor:
      return "optional(tensor)";
    case ValueKind::kOptionalSequence:
      return "optional(sequence)";
  }
  return "unknown";
}

Value::Value(Tensor t) : holds_(Holds::kTensor), elem_type_(t.dtype()), tensor_(std::move(t)) {}

Value Value::Sequence(DataType elem_type, std::vector<Tensor> items) {
  Value v;
  v.holds_ = Holds::kSequence;
  v.elem_type_ = elem_type;
  v.items_ = std::make_shared<const std::vector<Tensor>>(std::move(items));
  return v;
}

Value Value::None(ValueKind kind, DataType elem_type) {
  Value v;
  v.holds_ = Holds::kNone;
  v.elem_type_ = elem_type;
  v.none_kind_ = kind;
  return v;
}

bool Value::defined() const {
  return holds_ == Holds::kTensor ? tensor_.defined() : holds_ != Holds::kNothing;
}

DataType Value::dtype() const { return is_tensor() ? tensor_.dtype() : elem_type_; }

const std::vector<Tensor>& Value::sequence() const {
  static const std::vector<Tensor> kEmpty;
  return items_ ? *items_ : kEmpty;
}

std::string Value::Describe() const {
  switch (holds_) {
    case Holds::kTensor:
      return DataTypeName(tensor_.dtype()) + ShapeToString(tensor_.shape());
    case Holds::kSequence:
      return "sequence(" + DataTypeName(elem_type_) + ", " + std::to_string(sequence().size()) +
             (sequence().size() == 1 ? " element)" : " elements)");
    case Holds::kNone:
      return "none (" + ValueKindName(none_kind_) + " of " + DataTypeName(elem_type_) + ")";
    case Holds::kNothing:
      break;
  }
  return "undefined";
}

}  // namespace supernova
