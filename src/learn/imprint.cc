#include "learn/imprint.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "learn/embedder.h"
#include "learn/graph_append.h"
#include "optimizer/graph_utils.h"

namespace supernova::learn {
namespace {

// The original classifier's weights as rows, [C, dim]: the Gemm or MatMul of `source` that
// reads `layer` with a constant weight.
struct OriginalRows {
  int64_t classes = 0;
  std::vector<float> rows;
};

Result<OriginalRows> FindOriginalRows(const ir::Graph& g, const std::string& layer, int64_t dim) {
  for (const ir::Node& n : g.nodes) {
    const bool gemm = optimizer::IsOnnxOp(n, "Gemm"), matmul = optimizer::IsOnnxOp(n, "MatMul");
    if (!(gemm || matmul) || n.inputs.size() < 2 || n.inputs[0] != layer) continue;
    if (gemm && n.AttrInt("transA", 0) != 0) continue;
    const Tensor* w = optimizer::FindConstant(g, n.inputs[1]);
    if (!w || w->dtype() != DataType::kFloat32 || w->rank() != 2) continue;
    // Gemm's transB stores the rows as they are; otherwise B is [dim, C] and a row is a column.
    const bool rows_stored = gemm && n.AttrInt("transB", 0) != 0;
    const int64_t k = rows_stored ? w->shape()[1] : w->shape()[0];
    const int64_t c = rows_stored ? w->shape()[0] : w->shape()[1];
    if (k != dim)
      return Status::InvalidArgument(n.Label() + " reads " + std::to_string(k) +
                                     " features, the embedding has " + std::to_string(dim));
    OriginalRows r;
    r.classes = c;
    r.rows.resize(static_cast<size_t>(c * k));
    const float* src = w->data<float>();
    for (int64_t i = 0; i < c; ++i)
      for (int64_t j = 0; j < k; ++j)
        r.rows[static_cast<size_t>(i * k + j)] = rows_stored ? src[i * k + j] : src[j * c + i];
    return r;
  }
  return Status::InvalidArgument(
      "--keep-original: no Gemm or MatMul with constant weights reads '" + layer +
      "', so the model has no classes to keep");
}

void Normalize(float* row, int64_t n) {
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) sq += double{row[i]} * row[i];
  const float inv = sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
  for (int64_t i = 0; i < n; ++i) row[i] *= inv;
}

void SetProp(ir::ModelMetadata& meta, const std::string& key, const std::string& value) {
  for (auto& [k, v] : meta.props)
    if (k == key) {
      v = value;
      return;
    }
  meta.props.emplace_back(key, value);
}

}  // namespace

Result<ir::Model> BuildImprintedModel(const ir::Model& source, const ir::Model& embedding,
                                      const std::string& layer, const Classifier& classes,
                                      const std::string& embedder_identity,
                                      const ImprintOptions& options) {
  const ir::ValueType* type = embedding.graph.TypeOf(kEmbeddingOutput);
  if (embedding.graph.outputs != std::vector<std::string>{kEmbeddingOutput} || !type ||
      !type->dims || type->dims->size() != 2 || !type->dims->at(1).known())
    return Status::InvalidArgument("not an embedding model (BuildEmbeddingModel makes one)");
  const int64_t dim = type->dims->at(1).value;
  if (classes.size() > 0 && classes.dim() != dim)
    return Status::InvalidArgument("the classes are of dimension " + std::to_string(classes.dim()) +
                                   ", the embedding of " + std::to_string(dim));
  std::vector<std::string> names;
  std::vector<float> rows;  // [C, dim], unit rows
  if (options.keep_original) {
    SN_ASSIGN_OR_RETURN(OriginalRows original, FindOriginalRows(source.graph, layer, dim));
    if (!options.original_names.empty() &&
        static_cast<int64_t>(options.original_names.size()) != original.classes)
      return Status::InvalidArgument(std::to_string(options.original_names.size()) +
                                     " names for the " + std::to_string(original.classes) +
                                     " original classes");
    for (int64_t i = 0; i < original.classes; ++i) {
      Normalize(original.rows.data() + i * dim, dim);
      names.push_back(options.original_names.empty() ? "original:" + std::to_string(i)
                                                     : options.original_names[i]);
    }
    rows = std::move(original.rows);
  }
  names.insert(names.end(), classes.names().begin(), classes.names().end());
  rows.insert(rows.end(), classes.weights().begin(), classes.weights().end());
  const int64_t c = static_cast<int64_t>(names.size());
  if (c == 0) return Status::InvalidArgument("no classes to imprint");

  // The classifier multiplies by [dim, C]: each class a column.
  Tensor w(DataType::kFloat32, {dim, c});
  float* wt = w.data<float>();
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < dim; ++j) wt[j * c + i] = rows[static_cast<size_t>(i * dim + j)];

  ir::Model m = embedding;
  ir::Graph& g = m.graph;
  GraphAppender add(g);
  if (add.Name(kScoresOutput) != kScoresOutput || add.Name(kClassIndexOutput) != kClassIndexOutput)
    return Status::Unimplemented("the model already has a value named scores or class_index");
  ir::Node& scores = add.Add("MatMul", {kEmbeddingOutput, add.Constant("imprinted_weights", w)},
                             "imprinted_scores");
  scores.outputs[0] = kScoresOutput;
  ir::Node& argmax = add.Add("ArgMax", {kScoresOutput}, "imprinted_argmax");
  argmax.outputs[0] = kClassIndexOutput;
  optimizer::SetAttr(argmax, "axis", int64_t{1});
  optimizer::SetAttr(argmax, "keepdims", int64_t{0});
  const ir::Dim batch = type->dims->at(0);
  g.value_types[kScoresOutput] = {DataType::kFloat32,
                                  std::vector<ir::Dim>{batch, ir::Dim::Known(c)}};
  g.value_types[kClassIndexOutput] = {DataType::kInt64, std::vector<ir::Dim>{batch}};
  g.outputs = {kScoresOutput, kClassIndexOutput};
  SN_RETURN_IF_ERROR(g.Validate());
  SetProp(m.metadata, "supernova.classes", nlohmann::json(names).dump());
  SetProp(m.metadata, "supernova.embedder", embedder_identity);
  return m;
}

}  // namespace supernova::learn
