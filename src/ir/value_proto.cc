#include "ir/value_proto.h"

#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include <fstream>

#include "ir/tensor_proto.h"

namespace supernova::ir {
namespace {

Result<Value> SequenceFromProto(const onnx::SequenceProto& p, DataType elem_type) {
  if (p.elem_type() != onnx::SequenceProto::TENSOR &&
      p.elem_type() != onnx::SequenceProto::UNDEFINED)
    return Status::Unimplemented("only sequences of tensors are supported (elem_type " +
                                 std::to_string(p.elem_type()) + ")");
  std::vector<Tensor> items;
  for (const onnx::TensorProto& t : p.tensor_values()) {
    SN_ASSIGN_OR_RETURN(Tensor item, TensorFromProto(t, ""));
    items.push_back(std::move(item));
  }
  if (!items.empty()) elem_type = items[0].dtype();
  return Value::Sequence(elem_type, std::move(items));
}

void SequenceToProto(const Value& v, onnx::SequenceProto* p) {
  p->set_elem_type(onnx::SequenceProto::TENSOR);
  for (const Tensor& t : v.sequence()) TensorToProto(t, "", p->add_tensor_values());
}

}  // namespace

Result<Value> ReadValueFile(const std::string& path, ValueKind kind, DataType elem_type,
                            std::string* name) {
  if (kind == ValueKind::kTensor) {
    SN_ASSIGN_OR_RETURN(Tensor t, ReadTensorFile(path, name));
    return Value(std::move(t));
  }
  SN_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  if (kind == ValueKind::kSequence) {
    onnx::SequenceProto p;
    if (!p.ParseFromString(bytes)) return Status::InvalidArgument(path + ": not a SequenceProto");
    if (name) *name = p.name();
    return SequenceFromProto(p, elem_type);
  }
  onnx::OptionalProto p;
  if (!p.ParseFromString(bytes)) return Status::InvalidArgument(path + ": not an OptionalProto");
  if (name) *name = p.name();
  if (p.has_tensor_value()) {
    SN_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(p.tensor_value(), ""));
    return Value(std::move(t));
  }
  if (p.has_sequence_value()) return SequenceFromProto(p.sequence_value(), elem_type);
  if (p.elem_type() != onnx::OptionalProto::UNDEFINED &&
      p.elem_type() != onnx::OptionalProto::TENSOR &&
      p.elem_type() != onnx::OptionalProto::SEQUENCE)
    return Status::Unimplemented(path + ": optional of elem_type " + std::to_string(p.elem_type()) +
                                 " is not supported");
  return Value::None(kind, elem_type);
}

Status WriteValueFile(const std::string& path, const Value& value, ValueKind kind,
                      const std::string& name) {
  std::string bytes;
  if (kind == ValueKind::kTensor || (!IsOptional(kind) && value.is_tensor())) {
    if (!value.is_tensor())
      return Status::InvalidArgument("'" + name + "' is a " + value.Describe() + ", not a tensor");
    return WriteTensorFile(path, value.tensor(), name);
  }
  if (!IsOptional(kind)) {
    if (!value.is_sequence())
      return Status::InvalidArgument("'" + name + "' is a " + value.Describe() +
                                     ", not a sequence");
    onnx::SequenceProto p;
    p.set_name(name);
    SequenceToProto(value, &p);
    p.SerializeToString(&bytes);
  } else {
    onnx::OptionalProto p;
    p.set_name(name);
    if (value.is_tensor()) {
      p.set_elem_type(onnx::OptionalProto::TENSOR);
      TensorToProto(value.tensor(), "", p.mutable_tensor_value());
    } else if (value.is_sequence()) {
      p.set_elem_type(onnx::OptionalProto::SEQUENCE);
      SequenceToProto(value, p.mutable_sequence_value());
    } else {
      p.set_elem_type(kind == ValueKind::kOptionalSequence ? onnx::OptionalProto::SEQUENCE
                                                           : onnx::OptionalProto::TENSOR);
    }
    p.SerializeToString(&bytes);
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot write " + path);
  if (!f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    return Status::Internal("failed to write " + path);
  return Status::Ok();
}

}  // namespace supernova::ir
