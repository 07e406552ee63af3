#include <onnx/onnx_pb.h>

#include <fstream>
#include <map>

#include "ir/onnx_import.h"
#include "ir/tensor_proto.h"

namespace supernova::ir {
namespace {

void TypeToProto(const ValueType& v, onnx::TypeProto* type) {
  switch (v.kind) {
    case ValueKind::kTensor:
      break;
    case ValueKind::kSequence:
      type = type->mutable_sequence_type()->mutable_elem_type();
      break;
    case ValueKind::kOptionalTensor:
      type = type->mutable_optional_type()->mutable_elem_type();
      break;
    case ValueKind::kOptionalSequence:
      type = type->mutable_optional_type()
                 ->mutable_elem_type()
                 ->mutable_sequence_type()
                 ->mutable_elem_type();
      break;
  }
  auto* tt = type->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (!v.dims) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : *v.dims) {
    auto* dp = shape->add_dim();
    if (d.known())
      dp->set_dim_value(d.value);
    else if (!d.symbol.empty())
      dp->set_dim_param(d.symbol);
  }
}

void ValueInfo(const Graph& g, const std::string& name, onnx::ValueInfoProto* vi) {
  vi->set_name(name);
  if (const ValueType* t = g.TypeOf(name)) TypeToProto(*t, vi->mutable_type());
}

void GraphToProto(const Graph& g, onnx::GraphProto* gp);

void AttributeToProto(const std::string& name, const Attribute& a, onnx::AttributeProto* ap) {
  ap->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kFloat:
      ap->set_type(onnx::AttributeProto::FLOAT);
      ap->set_f(a.f);
      break;
    case Attribute::Kind::kInt:
      ap->set_type(onnx::AttributeProto::INT);
      ap->set_i(a.i);
      break;
    case Attribute::Kind::kString:
      ap->set_type(onnx::AttributeProto::STRING);
      ap->set_s(a.s);
      break;
    case Attribute::Kind::kTensor:
      ap->set_type(onnx::AttributeProto::TENSOR);
      TensorToProto(a.t, "", ap->mutable_t());
      break;
    case Attribute::Kind::kGraph:
      ap->set_type(onnx::AttributeProto::GRAPH);
      GraphToProto(*a.g, ap->mutable_g());
      break;
    case Attribute::Kind::kFloats:
      ap->set_type(onnx::AttributeProto::FLOATS);
      for (float f : a.floats) ap->add_floats(f);
      break;
    case Attribute::Kind::kInts:
      ap->set_type(onnx::AttributeProto::INTS);
      for (int64_t i : a.ints) ap->add_ints(i);
      break;
    case Attribute::Kind::kStrings:
      ap->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& s : a.strings) ap->add_strings(s);
      break;
    case Attribute::Kind::kType:
      ap->set_type(onnx::AttributeProto::TYPE_PROTO);
      TypeToProto(a.type, ap->mutable_tp());
      break;
    case Attribute::Kind::kUndefined:
      break;
  }
}

void GraphToProto(const Graph& g, onnx::GraphProto* gp) {
  gp->set_name(g.name);
  for (const auto& [name, t] : g.initializers) TensorToProto(t, name, gp->add_initializer());
  for (const auto& in : g.inputs) ValueInfo(g, in, gp->add_input());
  for (const auto& out : g.outputs) ValueInfo(g, out, gp->add_output());
  for (const Node& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& [key, a] : n.attributes) AttributeToProto(key, a, np->add_attribute());
    for (const auto& o : n.outputs) {
      const ValueType* t = g.TypeOf(o);
      if (!o.empty() && t && t->dtype != DataType::kUndefined)
        ValueInfo(g, o, gp->add_value_info());
    }
  }
}

}  // namespace

Result<std::string> ExportOnnxBytes(const Model& model) {
  onnx::ModelProto mp;
  mp.set_ir_version(model.metadata.ir_version ? model.metadata.ir_version : 8);
  mp.set_producer_name(model.metadata.producer_name.empty() ? "supernova"
                                                            : model.metadata.producer_name);
  mp.set_producer_version(model.metadata.producer_version);
  for (const auto& [key, value] : model.metadata.props) {
    auto* p = mp.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  // Every domain a node uses needs an opset import, or readers reject the file. The graph
  // optimizer's own ops (com.supernova) are version 1.
  std::map<std::string, int64_t> opsets = model.graph.opsets;
  for (const Node& n : model.graph.nodes)
    if (n.domain == "com.supernova") opsets.emplace(n.domain, 1);
  for (const auto& [domain, version] : opsets) {
    auto* op = mp.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  GraphToProto(model.graph, mp.mutable_graph());
  std::string bytes;
  if (!mp.SerializeToString(&bytes))
    return Status::Internal("model too large to serialize (over 2 GiB)");
  return bytes;
}

Status ExportOnnxFile(const Model& model, const std::string& path) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ExportOnnxBytes(model));
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot write " + path);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return f ? Status::Ok() : Status::Internal("failed to write " + path);
}

}  // namespace supernova::ir
