#include "collab/split.h"

#include <fmt/format.h>

#include <unordered_set>

#include "collab/cut.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_utils.h"

namespace supernova::collab {

namespace {

// ONNX's codes, which DataType's values are.
constexpr int64_t kOnnxFloat = static_cast<int64_t>(DataType::kFloat32);
constexpr int64_t kOnnxFloat16 = static_cast<int64_t>(DataType::kFloat16);

using optimizer::MakeNode;

ir::Node CastNode(const std::string& from, const std::string& to, int64_t dtype) {
  ir::Node n = MakeNode("Cast", {from}, {to}, "cut_codec/" + to);
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = dtype;
  n.attributes["to"] = a;
  return n;
}

// A model of `nodes` (indices into the source, in order) plus `extra` nodes, reading `inputs`
// and returning `outputs`; it keeps the initializers and known types of what it mentions.
ir::Model SubModel(const ir::Model& source, const std::vector<int>& nodes,
                   const std::vector<ir::Node>& before, const std::vector<ir::Node>& after,
                   std::vector<std::string> inputs, std::vector<std::string> outputs,
                   const std::string& suffix) {
  const ir::Graph& from = source.graph;
  ir::Model m;
  m.metadata = source.metadata;
  ir::Graph& g = m.graph;
  g.name = from.name + suffix;
  g.opsets = from.opsets;
  g.inputs = std::move(inputs);
  g.outputs = std::move(outputs);
  for (const ir::Node& n : before) g.nodes.push_back(n);
  for (int i : nodes) g.nodes.push_back(from.nodes[i]);
  for (const ir::Node& n : after) g.nodes.push_back(n);
  std::unordered_set<std::string> mentioned(g.inputs.begin(), g.inputs.end());
  mentioned.insert(g.outputs.begin(), g.outputs.end());
  for (const ir::Node& n : g.nodes) {
    mentioned.insert(n.inputs.begin(), n.inputs.end());
    mentioned.insert(n.outputs.begin(), n.outputs.end());
    ir::CollectSubgraphReads(n, &mentioned);
  }
  for (const std::string& v : mentioned) {
    if (v.empty()) continue;
    if (auto it = from.initializers.find(v); it != from.initializers.end())
      g.initializers.emplace(v, it->second);
    if (auto it = from.value_types.find(v); it != from.value_types.end())
      g.value_types.emplace(v, it->second);
  }
  return m;
}

// The codec's nodes for the cut tensors: `encode` turns each into its wire names, `decode`
// back; `type_of` gives a cut tensor's type, or null where it is unknown.
struct Codecs {
  std::vector<SentTensor> sent;
  std::vector<ir::Node> encode, decode;
  std::map<std::string, ir::ValueType> wire_types;  // of the cut tensors and their wire names
};

template <typename TypeOf>
Result<Codecs> MakeCodecs(const std::vector<std::string>& cut, CutCodec codec, TypeOf type_of) {
  Codecs out;
  for (const std::string& t : cut) {
    const ir::ValueType* type = type_of(t);
    if (!type)
      return Status::InvalidArgument(
          fmt::format("cut: the type of '{}' is unknown (give a profile, which measures it)", t));
    SentTensor s = WireNames(t, type->dtype, codec);
    out.wire_types[t] = *type;
    if (s.names.size() == 1 && s.names[0] != t) {
      out.encode.push_back(CastNode(t, s.names[0], kOnnxFloat16));
      out.decode.push_back(CastNode(s.names[0], t, kOnnxFloat));
      ir::ValueType half = *type;
      half.dtype = DataType::kFloat16;
      out.wire_types[s.names[0]] = half;
    } else if (s.names.size() == 3) {
      out.encode.push_back(
          MakeNode("DynamicQuantizeLinear", {t}, s.names, "cut_codec/" + t + ".quantize"));
      out.decode.push_back(
          MakeNode("DequantizeLinear", s.names, {t}, "cut_codec/" + t + ".dequantize"));
      ir::ValueType q = *type;
      q.dtype = DataType::kUint8;
      out.wire_types[s.names[0]] = q;
      out.wire_types[s.names[1]] = ir::ValueType::Static(DataType::kFloat32, {});
      out.wire_types[s.names[2]] = ir::ValueType::Static(DataType::kUint8, {});
    }
    out.sent.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<CutCodec> ParseCutCodec(const std::string& text) {
  if (text == "none") return CutCodec::kNone;
  if (text == "fp16") return CutCodec::kFp16;
  if (text == "int8") return CutCodec::kInt8;
  return Status::InvalidArgument("unknown cut codec '" + text + "' (none, fp16, int8)");
}

const char* CutCodecName(CutCodec codec) {
  switch (codec) {
    case CutCodec::kFp16:
      return "fp16";
    case CutCodec::kInt8:
      return "int8";
    case CutCodec::kNone:
      break;
  }
  return "none";
}

size_t SentBytes(CutCodec codec, DataType dtype, size_t bytes) {
  if (dtype != DataType::kFloat32 || codec == CutCodec::kNone) return bytes;
  const size_t elements = bytes / sizeof(float);
  if (codec == CutCodec::kFp16) return elements * 2;
  return elements + sizeof(float) + 1;  // uint8 values, a float scale, a uint8 zero point
}

SentTensor WireNames(const std::string& tensor, DataType dtype, CutCodec codec) {
  if (dtype != DataType::kFloat32 || codec == CutCodec::kNone) return {tensor, {tensor}};
  if (codec == CutCodec::kFp16) return {tensor, {tensor + ".fp16"}};
  return {tensor, {tensor + ".q", tensor + ".scale", tensor + ".zero_point"}};
}

Status CheckCodec(const ir::Graph& graph, CutCodec codec) {
  if (codec == CutCodec::kInt8 && graph.Opset() < 11)
    return Status::InvalidArgument(fmt::format(
        "the int8 cut codec needs opset 11 or later (DynamicQuantizeLinear); the model is at "
        "opset {}: use fp16",
        graph.Opset()));
  return Status::Ok();
}

std::vector<std::string> SplitModels::wire_names() const {
  std::vector<std::string> names;
  for (const SentTensor& s : sent) names.insert(names.end(), s.names.begin(), s.names.end());
  return names;
}

Result<SplitModels> SplitModel(const ir::Model& model, const std::vector<std::string>& cut,
                               CutCodec codec, const std::map<std::string, ir::ValueType>& types) {
  const ir::Graph& g = model.graph;
  SN_RETURN_IF_ERROR(ValidateCut(g, cut));
  SN_RETURN_IF_ERROR(CheckCodec(g, codec));
  // The model's own types first (inferred where not declared): they keep symbolic dims such
  // as a dynamic batch, where a profile knows only the shapes it ran.
  ir::Graph typed = g;
  ops::InferShapes(typed);
  auto type_of = [&](const std::string& t) -> const ir::ValueType* {
    const ir::ValueType* known = typed.TypeOf(t);
    if (known && known->dtype != DataType::kUndefined && known->dims) return known;
    if (auto it = types.find(t); it != types.end() && it->second.dtype != DataType::kUndefined)
      return &it->second;
    return known && known->dtype != DataType::kUndefined ? known : nullptr;
  };

  SN_ASSIGN_OR_RETURN(Codecs codecs, MakeCodecs(cut, codec, type_of));
  SplitModels out;
  out.sent = std::move(codecs.sent);
  const std::vector<std::string> wire = out.wire_names();

  const std::vector<int> head_nodes = HeadNodes(g, cut);
  std::unordered_set<std::string> head_reads(cut.begin(), cut.end());
  for (int i : head_nodes) {
    for (const std::string& v : g.nodes[i].inputs) head_reads.insert(v);
    ir::CollectSubgraphReads(g.nodes[i], &head_reads);
  }
  std::vector<std::string> head_inputs;
  for (const std::string& in : g.inputs)
    if (head_reads.count(in)) head_inputs.push_back(in);
  out.head = SubModel(model, head_nodes, {}, codecs.encode, head_inputs, wire, "_head");
  out.tail = SubModel(model, TailNodes(g, cut), codecs.decode, {}, wire, g.outputs, "_tail");
  for (ir::Model* m : {&out.head, &out.tail})
    for (const auto& [name, type] : codecs.wire_types) m->graph.value_types[name] = type;
  return out;
}

Result<std::vector<SentTensor>> AddCutOutputs(ir::Model* model, const std::vector<std::string>& cut,
                                              CutCodec codec) {
  ir::Graph& g = model->graph;
  SN_RETURN_IF_ERROR(CheckCodec(g, codec));
  if (cut.empty()) return Status::InvalidArgument("cut: no tensors named");
  std::unordered_set<std::string> computed;
  for (const ir::Node& n : g.nodes) computed.insert(n.outputs.begin(), n.outputs.end());
  std::unordered_set<std::string> seen;
  for (const std::string& t : cut) {
    if (!computed.count(t))
      return Status::InvalidArgument(
          fmt::format("cut: the model computes no tensor '{}' (name one a node produces)", t));
    if (!seen.insert(t).second)
      return Status::InvalidArgument(fmt::format("cut: '{}' is named twice", t));
  }
  ir::Graph typed = g;
  ops::InferShapes(typed);
  auto type_of = [&](const std::string& t) -> const ir::ValueType* {
    const ir::ValueType* known = typed.TypeOf(t);
    return known && known->dtype != DataType::kUndefined ? known : nullptr;
  };
  SN_ASSIGN_OR_RETURN(Codecs codecs, MakeCodecs(cut, codec, type_of));
  // The codec's nodes read values the graph already computes: appended, the order stays a
  // topological one.
  for (ir::Node& n : codecs.encode) g.nodes.push_back(std::move(n));
  std::unordered_set<std::string> outputs(g.outputs.begin(), g.outputs.end());
  for (const SentTensor& s : codecs.sent)
    for (const std::string& name : s.names)
      if (outputs.insert(name).second) g.outputs.push_back(name);
  for (const auto& [name, type] : codecs.wire_types) g.value_types[name] = type;
  return std::move(codecs.sent);
}

}  // namespace supernova::collab
