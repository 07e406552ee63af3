#include "learn/embedder.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "ir/tensor_proto.h"
#include "learn/graph_append.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::learn {
namespace {

// Ops a classifier's logits pass through on their way to the output without ceasing to be the
// classifier's answer (reshaped, pooled, biased, activated).
bool PassesLogits(const ir::Node& n) {
  static const std::unordered_set<std::string> kOps = {
      "Flatten", "Reshape", "Squeeze",           "Unsqueeze", "Identity",   "Dropout",
      "Relu",    "Add",     "GlobalAveragePool", "Softmax",   "LogSoftmax", "Sigmoid"};
  return (n.domain.empty() || n.domain == "ai.onnx") && kOps.count(n.op_type) != 0;
}

bool IsProbability(const ir::Node& n) {
  return n.op_type == "Softmax" || n.op_type == "LogSoftmax" || n.op_type == "Sigmoid";
}

// The input of `n` that carries the activation: the one that is not a constant.
const std::string* ActivationInput(const ir::Graph& g, const ir::Node& n) {
  const std::string* found = nullptr;
  for (const std::string& in : n.inputs) {
    if (in.empty() || g.IsInitializer(in)) continue;
    if (found) return nullptr;  // two activations: not a pass-through
    found = &in;
  }
  return found;
}

// The classes of a final classifier node, or 0 when `n` is not one: a Gemm or MatMul with a
// constant [K, C] (or transposed [C, K]) weight, or a 1x1 Conv with a constant weight.
int64_t ClassifierClasses(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 2 || g.IsInitializer(n.inputs[0])) return 0;
  const Tensor* w = optimizer::FindConstant(g, n.inputs[1]);
  if (!w) return 0;
  const Shape& s = w->shape();
  if (optimizer::IsOnnxOp(n, "Gemm") && s.size() == 2 && n.AttrInt("transA", 0) == 0)
    return n.AttrInt("transB", 0) ? s[0] : s[1];
  if (optimizer::IsOnnxOp(n, "MatMul") && s.size() == 2) return s[1];
  if (optimizer::IsOnnxOp(n, "Conv") && s.size() == 4 && s[2] == 1 && s[3] == 1) return s[0];
  return 0;
}

// Inputs of the graph's last dense or convolutional nodes: where an embedding usually is.
std::vector<std::string> Candidates(const ir::Graph& g) {
  std::vector<std::string> out;
  for (auto it = g.nodes.rbegin(); it != g.nodes.rend() && out.size() < 4; ++it) {
    const ir::Node& n = *it;
    if (!(n.op_type == "Gemm" || n.op_type == "MatMul" || n.op_type == "Conv" ||
          n.op_type == "GlobalAveragePool" || n.op_type == "Flatten"))
      continue;
    if (n.inputs.empty() || g.IsInitializer(n.inputs[0])) continue;
    if (std::find(out.begin(), out.end(), n.inputs[0]) == out.end()) out.push_back(n.inputs[0]);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

// The type of `value` with its rank and feature size (axis 1), inferring shapes on a copy of
// the graph (weights are shared handles, not copied) when the file did not declare them:
// exporters often declare intermediate tensors as [?, ?].
std::optional<ir::ValueType> TypeOf(const ir::Graph& g, const std::string& value) {
  auto complete = [](const ir::ValueType* t) {
    return t && t->dtype != DataType::kUndefined && t->dims &&
           (t->dims->size() < 2 || (*t->dims)[1].known());
  };
  const ir::ValueType* declared = g.TypeOf(value);
  if (complete(declared)) return *declared;
  auto infer = [&](bool batch_of_one) {
    ir::Graph copy = g;
    // Shape rules give up on a product with a symbolic batch (Flatten of [N, C, 1, 1]); the
    // feature size does not depend on the batch, so a copy with a batch of one tells it.
    if (batch_of_one)
      for (const std::string& in : copy.inputs) {
        auto it = copy.value_types.find(in);
        if (it != copy.value_types.end() && it->second.dims && !it->second.dims->empty() &&
            !(*it->second.dims)[0].known())
          (*it->second.dims)[0] = ir::Dim::Known(1);
      }
    // Exporters feed weights through Constant and Identity nodes: as constants, their shapes
    // reach the convolutions (what compress does before it plans).
    ops::InferShapes(copy);
    if (optimizer::FoldConstants(copy).ok()) ops::InferShapes(copy);
    const ir::ValueType* t = copy.TypeOf(value);
    return t ? std::optional<ir::ValueType>(*t) : std::nullopt;
  };
  std::optional<ir::ValueType> t = infer(false);
  if (!t) return declared ? std::optional<ir::ValueType>(*declared) : std::nullopt;
  if (complete(&*t)) return t;
  const std::optional<ir::ValueType> one = infer(true);
  if (one && complete(&*one) && t->dims && one->dims->size() == t->dims->size())
    for (size_t i = 1; i < t->dims->size(); ++i) (*t->dims)[i] = (*one->dims)[i];
  return t;
}

Status CheckLayer(const ir::Graph& g, const std::string& layer) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--layer '" + layer + "' " + why + "; the model's outputs: " +
                                   Join(g.outputs) + "; candidates: " + Join(Candidates(g)));
  };
  if (g.IsInitializer(layer)) return bad("is a constant (an initializer), not an activation");
  if (std::find(g.inputs.begin(), g.inputs.end(), layer) != g.inputs.end())
    return bad("is the model's input, not a layer");
  const bool produced = std::any_of(g.nodes.begin(), g.nodes.end(), [&](const ir::Node& n) {
    return std::find(n.outputs.begin(), n.outputs.end(), layer) != n.outputs.end();
  });
  if (!produced) return bad("names no tensor of the model");
  const std::optional<ir::ValueType> t = TypeOf(g, layer);
  if (t && t->dtype != DataType::kUndefined && t->dtype != DataType::kFloat32)
    return bad("is " + DataTypeName(t->dtype) + ", not float32");
  return Status::Ok();
}

// ChooseLayer's default, on a graph whose weights are initializers.
Result<LayerChoice> ChooseLayerIn(const ir::Graph& g) {
  std::unordered_map<std::string, const ir::Node*> producer;
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs) producer[o] = &n;
  const std::string& output = g.outputs[0];
  // Walk back from the first output through what logits pass through to the node that made
  // them; a bounded walk, since a pass-through chain longer than this is no classifier's tail.
  std::string value = output;
  bool probabilities = false;
  for (int step = 0; step < 16; ++step) {
    auto it = producer.find(value);
    if (it == producer.end()) break;
    const ir::Node& n = *it->second;
    if (const int64_t classes = ClassifierClasses(g, n); classes > 0) {
      if (classes < 1000 && !probabilities) break;
      return LayerChoice{n.inputs[0],
                         "input of " + n.Label() + " (" + std::to_string(classes) + " classes)"};
    }
    if (!PassesLogits(n)) break;
    const std::string* in = ActivationInput(g, n);
    if (!in) break;
    probabilities |= IsProbability(n);
    value = *in;
  }
  return LayerChoice{output, "the model's output '" + output + "' (no classifier before it)"};
}

}  // namespace

Result<LayerChoice> ChooseLayer(const ir::Model& model, const std::string& layer) {
  const ir::Graph& g = model.graph;
  if (!layer.empty()) {
    SN_RETURN_IF_ERROR(CheckLayer(g, layer));
    return LayerChoice{layer, "--layer"};
  }
  if (g.outputs.empty()) return Status::InvalidArgument("the model has no outputs");
  // Exporters write weights as Constant nodes too (PP-OCR's classifier): folded, they are the
  // initializers ClassifierClasses looks for. Activations keep their names.
  ir::Graph folded = g;  // weights are shared handles, not copied
  if (std::any_of(g.nodes.begin(), g.nodes.end(),
                  [](const ir::Node& n) { return n.op_type == "Constant"; }) &&
      optimizer::FoldConstants(folded).ok())
    return ChooseLayerIn(folded);
  return ChooseLayerIn(g);
}

Result<ir::Model> BuildEmbeddingModel(const ir::Model& model, const LayerChoice& layer) {
  ir::Model m = model;
  ir::Graph& g = m.graph;
  std::vector<std::string> inputs;
  for (const std::string& in : g.inputs)
    if (!g.IsInitializer(in)) inputs.push_back(in);
  if (inputs.size() != 1)
    return Status::InvalidArgument("embeddings need a model with one input; this one has " +
                                   std::to_string(inputs.size()) + " (" + Join(inputs) + ")");
  SN_RETURN_IF_ERROR(CheckLayer(g, layer.tensor));
  g.outputs = {layer.tensor};
  SN_RETURN_IF_ERROR(optimizer::EliminateDeadNodes(g).status());
  const std::optional<ir::ValueType> type = TypeOf(g, layer.tensor);
  if (!type || !type->dims)
    return Status::InvalidArgument("cannot tell the rank of '" + layer.tensor +
                                   "' (shape inference does not reach it)");
  const std::vector<ir::Dim>& dims = *type->dims;
  const size_t rank = dims.size();
  if (rank < 2)
    return Status::InvalidArgument("'" + layer.tensor + "' has rank " + std::to_string(rank) +
                                   "; an embedding needs a batch axis and a feature axis");
  GraphAppender add(g);
  if (add.Name(kEmbeddingOutput) != kEmbeddingOutput)
    return Status::Unimplemented(std::string("the model already has a value named '") +
                                 kEmbeddingOutput + "'");
  std::string x = layer.tensor;
  if (rank > 2) {
    if (rank == 4) {
      x = add.Add("GlobalAveragePool", {x}, "embedding_pooled").outputs[0];
    } else {
      std::vector<int64_t> axes;
      for (size_t a = 2; a < rank; ++a) axes.push_back(static_cast<int64_t>(a));
      x = add.Reduce("ReduceMean", x, axes, true, "embedding_pooled");
    }
    ir::Node& flat = add.Add("Flatten", {x}, "embedding_flat");
    optimizer::SetAttr(flat, "axis", int64_t{1});
    x = flat.outputs[0];
  }
  const std::string norm = add.Reduce("ReduceL2", x, {1}, true, "embedding_norm");
  // A zero vector (a dead ReLU layer on a black image) stays zero instead of NaN.
  const std::string floor =
      add.Constant("embedding_floor", Tensor::FromVector<float>({1e-12f}, {1}));
  const std::string denom = add.Add("Max", {norm, floor}, "embedding_denominator").outputs[0];
  ir::Node& div = add.Add("Div", {x, denom}, "embedding_div");
  div.outputs[0] = kEmbeddingOutput;
  g.outputs = {kEmbeddingOutput};
  ir::ValueType out;
  out.dtype = DataType::kFloat32;
  out.dims = std::vector<ir::Dim>{dims[0], dims[1]};  // pooling leaves the channels
  g.value_types[kEmbeddingOutput] = out;
  SN_RETURN_IF_ERROR(g.Validate());
  return m;
}

std::string ContentHash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

Result<std::unique_ptr<Embedder>> Embedder::Open(const std::string& model_path,
                                                 const EmbedderOptions& options) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ReadFileBytes(model_path));
  Result<ir::Model> model =
      ir::ImportOnnxBytes(bytes, std::filesystem::path(model_path).parent_path().string());
  if (!model.ok()) return model.status().WithContext(model_path);
  return Open(*model, ContentHash(bytes), options);
}

Result<std::unique_ptr<Embedder>> Embedder::Open(const ir::Model& model,
                                                 std::string model_bytes_hash,
                                                 const EmbedderOptions& options) {
  SN_ASSIGN_OR_RETURN(LayerChoice layer, ChooseLayer(model, options.layer));
  SN_ASSIGN_OR_RETURN(ir::Model cut, BuildEmbeddingModel(model, layer));
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(cut));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, options.session));
  const TensorInfo& out = session->outputs().at(0);
  if (!out.rank_known || out.dims.size() != 2 || out.dims[1] <= 0)
    return Status::InvalidArgument("the embedding of '" + layer.tensor +
                                   "' has no fixed size: " + out.ToString());
  std::unique_ptr<Embedder> e(new Embedder());
  e->dim_ = out.dims[1];
  e->identity_ = model_bytes_hash + ":" + layer.tensor;
  e->layer_ = std::move(layer);
  e->session_ = std::move(session);
  e->model_ = std::make_unique<ir::Model>(std::move(cut));
  return e;
}

const TensorInfo& Embedder::input() const { return session_->inputs().at(0); }

Result<Tensor> Embedder::Embed(const Tensor& batch) const {
  std::vector<Tensor> outputs;
  SN_RETURN_IF_ERROR(session_->Run({{input().name, batch}}, &outputs));
  Tensor& e = outputs.at(0);
  if (e.dtype() != DataType::kFloat32 || e.rank() != 2 || e.shape()[1] != dim_)
    return Status::Internal("the embedding model gave " + DataTypeName(e.dtype()) +
                            ShapeToString(e.shape()) + ", not [N, " + std::to_string(dim_) +
                            "] floats");
  return std::move(e);
}

IdentityParts SplitIdentity(const std::string& identity) {
  const size_t colon = identity.find(':');  // the hash is hex: the first ':' ends it
  if (colon == std::string::npos) return {};
  return {identity.substr(0, colon), identity.substr(colon + 1)};
}

}  // namespace supernova::learn
