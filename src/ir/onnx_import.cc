#include "ir/onnx_import.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <limits>

#include "common/element_count.h"

#include "ir/proto_depth.h"
#include "ir/tensor_proto.h"

namespace supernova::ir {
namespace {

// A sequence or optional keeps its element type only (ValueType). Nested kinds beyond
// optional(sequence(tensor)) stay undefined: no op of this runtime makes them.
ValueType TypeFromProto(const onnx::TypeProto& type) {
  ValueType v;
  auto elem_dtype = [](const onnx::TypeProto& t) {
    if (!t.has_tensor_type()) return DataType::kUndefined;
    const int32_t e = t.tensor_type().elem_type();
    return IsKnownDataType(e) ? static_cast<DataType>(e) : DataType::kUndefined;
  };
  if (type.has_sequence_type()) {
    v.kind = ValueKind::kSequence;
    v.dtype = elem_dtype(type.sequence_type().elem_type());
    return v;
  }
  if (type.has_optional_type()) {
    const onnx::TypeProto& e = type.optional_type().elem_type();
    if (e.has_sequence_type()) {
      v.kind = ValueKind::kOptionalSequence;
      v.dtype = elem_dtype(e.sequence_type().elem_type());
    } else {
      v.kind = ValueKind::kOptionalTensor;
      v.dtype = elem_dtype(e);
    }
    return v;
  }
  if (!type.has_tensor_type()) return v;
  const auto& tt = type.tensor_type();
  v.dtype = elem_dtype(type);
  if (tt.has_shape()) {
    v.dims.emplace();
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value())
        v.dims->push_back(Dim::Known(d.dim_value()));
      else if (d.has_dim_param())
        v.dims->push_back(Dim::Symbol(d.dim_param()));
      else
        v.dims->push_back(Dim{});
    }
  }
  return v;
}

Result<std::shared_ptr<Graph>> ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir,
                                            const std::map<std::string, int64_t>& opsets);

// A declared shape is a promise shape inference and the planner build on: a negative dim or
// a count beyond kMaxTensorElements (which an int64 product may not even hold) is refused here
// rather than carried into their arithmetic.
Status CheckDeclared(const onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return Status::Ok();
  Shape known;
  for (const auto& d : vi.type().tensor_type().shape().dim())
    if (d.has_dim_value()) known.push_back(d.dim_value());
  for (int64_t d : known)
    if (d < 0)
      return Status::InvalidModel("value '" + vi.name() + "' declares a negative dim (" +
                                  std::to_string(d) + ")");
  if (CheckedNumElements(known) < 0)
    return Status::InvalidModel("value '" + vi.name() + "' declares more than 2^40 elements " +
                                ShapeToString(known));
  return Status::Ok();
}

Result<Attribute> ConvertAttribute(const onnx::AttributeProto& ap, const std::string& base_dir,
                                   const std::map<std::string, int64_t>& opsets) {
  Attribute a;
  auto type = ap.type();
  if (type == onnx::AttributeProto::UNDEFINED) {  // very old files: infer from the set field
    if (ap.has_f())
      type = onnx::AttributeProto::FLOAT;
    else if (ap.has_i())
      type = onnx::AttributeProto::INT;
    else if (ap.has_s())
      type = onnx::AttributeProto::STRING;
    else if (ap.has_t())
      type = onnx::AttributeProto::TENSOR;
    else if (ap.has_g())
      type = onnx::AttributeProto::GRAPH;
    else if (ap.floats_size())
      type = onnx::AttributeProto::FLOATS;
    else if (ap.ints_size())
      type = onnx::AttributeProto::INTS;
    else if (ap.strings_size())
      type = onnx::AttributeProto::STRINGS;
  }
  switch (type) {
    case onnx::AttributeProto::FLOAT:
      a.kind = Attribute::Kind::kFloat;
      a.f = ap.f();
      break;
    case onnx::AttributeProto::INT:
      a.kind = Attribute::Kind::kInt;
      a.i = ap.i();
      break;
    case onnx::AttributeProto::STRING:
      a.kind = Attribute::Kind::kString;
      a.s = ap.s();
      break;
    case onnx::AttributeProto::TENSOR: {
      a.kind = Attribute::Kind::kTensor;
      SN_ASSIGN_OR_RETURN(a.t, TensorFromProto(ap.t(), base_dir));
      break;
    }
    case onnx::AttributeProto::GRAPH: {
      a.kind = Attribute::Kind::kGraph;
      SN_ASSIGN_OR_RETURN(a.g, ConvertGraph(ap.g(), base_dir, opsets));
      break;
    }
    case onnx::AttributeProto::TYPE_PROTO:
      a.kind = Attribute::Kind::kType;
      a.type = TypeFromProto(ap.tp());
      break;
    case onnx::AttributeProto::FLOATS:
      a.kind = Attribute::Kind::kFloats;
      a.floats.assign(ap.floats().begin(), ap.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      a.kind = Attribute::Kind::kInts;
      a.ints.assign(ap.ints().begin(), ap.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      a.kind = Attribute::Kind::kStrings;
      a.strings.assign(ap.strings().begin(), ap.strings().end());
      break;
    default:
      // Sparse tensors, type protos and lists of tensors or graphs: kept as undefined so
      // that kernels needing them report it, while models that never read them still load.
      break;
  }
  return a;
}

Result<std::shared_ptr<Graph>> ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir,
                                            const std::map<std::string, int64_t>& opsets) {
  auto g = std::make_shared<Graph>();
  g->name = gp.name();
  g->opsets = opsets;
  for (const auto& init : gp.initializer()) {
    Result<Tensor> t = TensorFromProto(init, base_dir);
    if (!t.ok()) return t.status().WithContext("initializer '" + init.name() + "'");
    g->value_types[init.name()] = ValueType::Static(t->dtype(), t->shape());
    g->initializers[init.name()] = std::move(t).value();
  }
  if (gp.sparse_initializer_size() > 0)
    return Status::Unimplemented("sparse initializers are not supported");
  for (const auto& vi : gp.input()) {
    if (!g->initializers.count(vi.name())) {
      g->inputs.push_back(vi.name());
      g->value_types[vi.name()] = TypeFromProto(vi.type());
      SN_RETURN_IF_ERROR(CheckDeclared(vi));
    }
  }
  for (const auto& vi : gp.output()) {
    g->outputs.push_back(vi.name());
    g->value_types[vi.name()] = TypeFromProto(vi.type());
    SN_RETURN_IF_ERROR(CheckDeclared(vi));
  }
  for (const auto& vi : gp.value_info()) {
    SN_RETURN_IF_ERROR(CheckDeclared(vi));
    g->value_types.emplace(vi.name(), TypeFromProto(vi.type()));
  }
  g->nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (const auto& np : gp.node()) {
    Node n;
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& ap : np.attribute()) {
      Result<Attribute> a = ConvertAttribute(ap, base_dir, opsets);
      if (!a.ok()) return a.status().WithContext(n.Label() + " attribute '" + ap.name() + "'");
      n.attributes[ap.name()] = std::move(a).value();
    }
    g->nodes.push_back(std::move(n));
  }
  return g;
}

}  // namespace

Result<Model> ImportOnnxBytes(std::string_view bytes, const std::string& base_dir) {
  onnx::ModelProto mp;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return Status::InvalidModel("model is larger than 2 GiB; store weights as external data");
  if (!mp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    // Protobuf says only that it failed; a nesting past its limit is the one cause a user
    // can act on without a hex editor (ONNX Runtime refuses the same files).
    const int limit = google::protobuf::io::CodedInputStream::GetDefaultRecursionLimit();
    // +3: a tensor in the deepest graph nests a little further than the probe follows.
    if (const int depth = OnnxNestingDepth(bytes); depth + 3 > limit)
      return Status::InvalidModel(
          "not a valid ONNX model: its messages nest " + std::to_string(depth) +
          " deep, beyond protobuf's recursion limit of " + std::to_string(limit) +
          " (a Loop/If/Scan body inside another takes 3 levels: at most about " +
          std::to_string(limit / 3 - 1) + " nested bodies)");
    return Status::InvalidModel("not a valid ONNX model (protobuf parse failed)");
  }
  if (!mp.has_graph()) return Status::InvalidModel("ONNX model has no graph");
  std::map<std::string, int64_t> opsets;
  for (const auto& op : mp.opset_import())
    opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
  if (opsets.empty()) opsets[""] = 1;  // IR version 1 files had no opset_import
  SN_ASSIGN_OR_RETURN(std::shared_ptr<Graph> g, ConvertGraph(mp.graph(), base_dir, opsets));
  SN_RETURN_IF_ERROR(g->TopologicalSort());
  SN_RETURN_IF_ERROR(g->Validate());
  Model m;
  m.graph = std::move(*g);
  m.metadata.ir_version = mp.ir_version();
  m.metadata.producer_name = mp.producer_name();
  m.metadata.producer_version = mp.producer_version();
  m.metadata.doc_string = mp.doc_string();
  for (const auto& p : mp.metadata_props()) m.metadata.props.emplace_back(p.key(), p.value());
  return m;
}

Result<Model> ImportOnnxFile(const std::string& path) {
  // Sized before it is read: protobuf parses at most 2 GiB, and reading a larger file only
  // to refuse it would take that much memory first.
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > static_cast<uintmax_t>(std::numeric_limits<int>::max()))
    return Status::InvalidModel(path + " is larger than 2 GiB (" + std::to_string(size) +
                                " bytes); store weights as external data");
  SN_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  Result<Model> m = ImportOnnxBytes(bytes, std::filesystem::path(path).parent_path().string());
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

}  // namespace supernova::ir
